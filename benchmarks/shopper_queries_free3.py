"""Free-form shopper queries, third set ("free3"): held-out evaluation data for `benchmarks/shopper_queries.py`.

Who, when, how
--------------
Written on 2026-12-02 by an AI assistant (Claude) working as a helper session, blind to the engine. It did not
open, read, grep or list anything under search/, indexer/, api/, eval/, tests/ or fixtures/, the README, any
synonyms file, or any other file under benchmarks/ (including the source of benchmarks/shopper_queries.py and the
earlier free-form sets); it did not use git log/diff, web or library search, and ran no search, server, eval or
benchmark. The only project command it ran was the checker
(`.venv/bin/python benchmarks/shopper_queries.py --catalog /tmp/br3/catalog.jsonl --check --set free3`), reading
only its output, plus `ruff check` on this file. The query texts were written by hand, imitating how shoppers of an
Indian online fashion shop type into a search box. The catalog (/tmp/br3/catalog.jsonl) was read only with small
throwaway scripts under /tmp, to learn which article types, colours, genders, usages and brands exist, how they are
spelled and how common they are, to turn each query's meaning into exact catalog values, and to make sure every
query has at least 3 grade-2 products; queries with too few were dropped or replaced, not reworded to fit.

Rules the intents follow
------------------------
Families (42 queries each, 252 in all): colour_audience_type, occasion_type, audience_type, colour_type,
brand_type, type_only. A field is present only when the query asks for it; article_type is always present.

Colours (shopper's word -> accepted catalog colours): black -> Black; white -> White + Off White; off-white,
cream -> Off White + Cream; beige -> Beige + Cream; nude -> Nude + Skin + Beige; khaki -> Khaki + Beige;
blue -> Blue + Navy Blue; navy -> Navy Blue; sky blue -> Blue + Turquoise Blue; turquoise, teal -> Teal +
Turquoise Blue; grey -> Grey + Grey Melange + Charcoal; charcoal (grey) -> Charcoal; brown -> Brown + Coffee Brown
+ Tan + Mushroom Brown; tan -> Tan; coffee brown -> Coffee Brown + Brown; maroon, wine, burgundy -> Maroon +
Burgundy; red -> Red; pink, baby pink -> Pink + Rose; hot pink -> Pink + Magenta; peach -> Peach; green -> Green +
Olive + Sea Green + Lime Green + Fluorescent Green; olive (green) -> Olive; bottle green -> Green; sea green ->
Sea Green; yellow -> Yellow + Mustard; mustard -> Mustard; orange -> Orange; rust -> Rust; purple -> Purple +
Lavender + Mauve; lavender, lilac -> Lavender + Mauve; gold, golden -> Gold; silver -> Silver + Steel; copper ->
Copper + Bronze; multicolour -> Multi.

Products (word -> accepted article types): tee/tshirt -> Tshirts + Lounge Tshirts; polo -> Tshirts; top -> Tops +
Tshirts + Tunics; tank top -> Tops + Tshirts + Camisoles; crop top -> Tops + Tshirts; kurta/kurti -> Kurtas +
Kurtis; kurta set/salwar suit -> Kurta Sets + Salwar and Dupatta; chinos/cargo pants/trousers -> Trousers;
joggers/track pants -> Track Pants + Lounge Pants; yoga pants -> Track Pants + Leggings + Capris + Lounge Pants; 3/4
pants -> Capris; leggings/jeggings -> Leggings + Jeggings; frock/dress -> Dresses; hoodie -> Sweatshirts + Jackets;
pullover -> Sweaters + Sweatshirts; sneakers -> Casual Shoes + Sports Shoes; running/jogging/football shoes ->
Sports Shoes; shoes/office shoes -> Casual Shoes + Sports Shoes + Formal Shoes; loafers -> Casual Shoes + Formal
Shoes; stilettos/wedges -> Heels; ballerinas/juttis -> Flats; slippers -> Flip Flops + Sandals; chappals -> Flip
Flops + Sandals + Flats; sandals -> Sandals + Sports Sandals ("clarks sandals", a brand selling women's sandal heels
and flats too -> Heels + Flats + Sandals + Sports Sandals); shades/sunglasses -> Sunglasses; purse -> Handbags +
Clutches + Wallets; sling bag -> Handbags + Messenger Bag; backpack -> Backpacks + Rucksacks; laptop bag -> Laptop
Bag + Backpacks + Messenger Bag; gym bag -> Duffel Bag + Backpacks; travel bags -> Duffel Bag + Backpacks +
Rucksacks + Trolley Bag; men's underwear -> Briefs + Trunk + Boxers; panties -> Briefs; banian/baniyan/vest ->
Innerwear Vests; boxer shorts -> Boxers + Lounge Shorts; nighty/nightdress -> Nightdress + Baby Dolls; pyjamas ->
Lounge Pants + Night suits; ear rings/jhumkas -> Earrings; bangles -> Bangle + Bracelet; chain -> Necklace and
Chains + Pendant; tie -> Ties + Ties and Cufflinks; moisturiser -> Face Moisturisers + Body Lotion; body spray ->
Deodorant + Perfume and Body Mist; deo -> Deodorant; perfume -> Perfume and Body Mist; nail paint -> Nail Polish;
kajal/eyeliner -> Kajal and Eyeliner; nehru jacket -> Nehru Jackets + Waistcoat; raincoat -> Rain Jacket;
swimsuit/swimming costume -> Swimwear.

Brands: typed lowercase and short (ucb, us polo, rayban, fcuk, one misspelling "sketchers"); the intent holds
every catalog spelling of that brand: adidas -> ADIDAS + Adidas + ADIDAS Originals; nike -> Nike + Nike
Fragrances; ucb -> United Colors of Benetton + Undercolors of Benetton; us polo ->
U.S. Polo Assn. + U.S. Polo Assn. Denim Co. + U.S. Polo Assn. Kids; fcuk -> French Connection + FCUK + FCUK
Underwear; others map to their single catalog spelling (Ray-Ban, Gini and Jony, ...).

Audiences: adult words (men, mens, gents, him, hubby, dad -> Men; women, ladies, her, mom, wife, sister ->
Women) also include Unisex, on the view that an adult shopper accepts unisex items; child words (boys,
nephew, teen boys -> Boys; girls, baby girl, daughter, niece, teen girls -> Girls; kids, toddler, baby -> Boys +
Girls) do not include Unisex, since the catalog's Unisex value does not say child or adult.

Usages: only where an occasion clearly matches a catalog usage: party -> Party; formal -> Formal; office ->
Formal + Smart Casual; smart casual -> Smart Casual; casual/daily wear -> Casual; travel -> Travel; gym, running,
jogging, training, workout, yoga, football, swimming, sports -> Sports; diwali, navratri, eid, wedding, festive,
traditional, ethnic -> Ethnic. Beach has no matching usage, so "beach slippers" carries no usage. No prices, sizes
or seasons.

Nobody tunes the engine to this set.
"""

from __future__ import annotations

QUERIES: list[tuple[str, str, dict[str, tuple[str, ...]]]] = [
    # --- colour_audience_type (42)
    (
        "colour_audience_type",
        "maroon kurta for ladies",
        {"article_type": ("Kurtas", "Kurtis"), "colour": ("Maroon", "Burgundy"), "gender": ("Women", "Unisex")},
    ),
    (
        "colour_audience_type",
        "mens navy chinos",
        {"article_type": ("Trousers",), "colour": ("Navy Blue",), "gender": ("Men", "Unisex")},
    ),
    (
        "colour_audience_type",
        "baby pink top girls",
        {"article_type": ("Tops", "Tshirts", "Tunics"), "colour": ("Pink", "Rose"), "gender": ("Girls",)},
    ),
    (
        "colour_audience_type",
        "white sneakers for women",
        {
            "article_type": ("Casual Shoes", "Sports Shoes"),
            "colour": ("White", "Off White"),
            "gender": ("Women", "Unisex"),
        },
    ),
    (
        "colour_audience_type",
        "grey hoodie mens",
        {
            "article_type": ("Sweatshirts", "Jackets"),
            "colour": ("Grey", "Grey Melange", "Charcoal"),
            "gender": ("Men", "Unisex"),
        },
    ),
    (
        "colour_audience_type",
        "olive tshirt for men",
        {"article_type": ("Tshirts", "Lounge Tshirts"), "colour": ("Olive",), "gender": ("Men", "Unisex")},
    ),
    (
        "colour_audience_type",
        "mustard kurti ladies",
        {"article_type": ("Kurtas", "Kurtis"), "colour": ("Mustard",), "gender": ("Women", "Unisex")},
    ),
    (
        "colour_audience_type",
        "gents brown belt",
        {
            "article_type": ("Belts",),
            "colour": ("Brown", "Coffee Brown", "Tan", "Mushroom Brown"),
            "gender": ("Men", "Unisex"),
        },
    ),
    (
        "colour_audience_type",
        "beige trousers women",
        {"article_type": ("Trousers",), "colour": ("Beige", "Cream"), "gender": ("Women", "Unisex")},
    ),
    (
        "colour_audience_type",
        "blue jeans for boys",
        {"article_type": ("Jeans",), "colour": ("Blue", "Navy Blue"), "gender": ("Boys",)},
    ),
    (
        "colour_audience_type",
        "pink t shirt for baby girl",
        {"article_type": ("Tshirts", "Lounge Tshirts"), "colour": ("Pink", "Rose"), "gender": ("Girls",)},
    ),
    (
        "colour_audience_type",
        "navy blue shirt boys",
        {"article_type": ("Shirts",), "colour": ("Navy Blue",), "gender": ("Boys",)},
    ),
    (
        "colour_audience_type",
        "black heels for ladies",
        {"article_type": ("Heels",), "colour": ("Black",), "gender": ("Women", "Unisex")},
    ),
    (
        "colour_audience_type",
        "golden flats for women",
        {"article_type": ("Flats",), "colour": ("Gold",), "gender": ("Women", "Unisex")},
    ),
    (
        "colour_audience_type",
        "silver watch for her",
        {"article_type": ("Watches",), "colour": ("Silver", "Steel"), "gender": ("Women", "Unisex")},
    ),
    (
        "colour_audience_type",
        "tan loafers men",
        {"article_type": ("Casual Shoes", "Formal Shoes"), "colour": ("Tan",), "gender": ("Men", "Unisex")},
    ),
    (
        "colour_audience_type",
        "peach top for women",
        {"article_type": ("Tops", "Tshirts", "Tunics"), "colour": ("Peach",), "gender": ("Women", "Unisex")},
    ),
    (
        "colour_audience_type",
        "yellow tshirts kids",
        {"article_type": ("Tshirts", "Lounge Tshirts"), "colour": ("Yellow", "Mustard"), "gender": ("Boys", "Girls")},
    ),
    (
        "colour_audience_type",
        "green shirt for boys",
        {
            "article_type": ("Shirts",),
            "colour": ("Green", "Olive", "Sea Green", "Lime Green", "Fluorescent Green"),
            "gender": ("Boys",),
        },
    ),
    (
        "colour_audience_type",
        "charcoal trousers for men",
        {"article_type": ("Trousers",), "colour": ("Charcoal",), "gender": ("Men", "Unisex")},
    ),
    (
        "colour_audience_type",
        "ladies black bra",
        {"article_type": ("Bra",), "colour": ("Black",), "gender": ("Women", "Unisex")},
    ),
    (
        "colour_audience_type",
        "mens grey track pants",
        {
            "article_type": ("Track Pants", "Lounge Pants"),
            "colour": ("Grey", "Grey Melange", "Charcoal"),
            "gender": ("Men", "Unisex"),
        },
    ),
    (
        "colour_audience_type",
        "womens black leggings",
        {"article_type": ("Leggings", "Jeggings"), "colour": ("Black",), "gender": ("Women", "Unisex")},
    ),
    (
        "colour_audience_type",
        "lavender top ladies",
        {"article_type": ("Tops", "Tshirts", "Tunics"), "colour": ("Lavender", "Mauve"), "gender": ("Women", "Unisex")},
    ),
    (
        "colour_audience_type",
        "teal handbag for women",
        {"article_type": ("Handbags",), "colour": ("Teal", "Turquoise Blue"), "gender": ("Women", "Unisex")},
    ),
    (
        "colour_audience_type",
        "purple nighty for ladies",
        {
            "article_type": ("Nightdress", "Baby Dolls"),
            "colour": ("Purple", "Lavender", "Mauve"),
            "gender": ("Women", "Unisex"),
        },
    ),
    (
        "colour_audience_type",
        "white socks men",
        {"article_type": ("Socks",), "colour": ("White", "Off White"), "gender": ("Men", "Unisex")},
    ),
    (
        "colour_audience_type",
        "red flip flops for women",
        {"article_type": ("Flip Flops",), "colour": ("Red",), "gender": ("Women", "Unisex")},
    ),
    (
        "colour_audience_type",
        "pink frock baby girl",
        {"article_type": ("Dresses",), "colour": ("Pink", "Rose"), "gender": ("Girls",)},
    ),
    (
        "colour_audience_type",
        "brown wallet for him",
        {
            "article_type": ("Wallets",),
            "colour": ("Brown", "Coffee Brown", "Tan", "Mushroom Brown"),
            "gender": ("Men", "Unisex"),
        },
    ),
    (
        "colour_audience_type",
        "black sunglasses for men",
        {"article_type": ("Sunglasses",), "colour": ("Black",), "gender": ("Men", "Unisex")},
    ),
    (
        "colour_audience_type",
        "rust kurta women",
        {"article_type": ("Kurtas", "Kurtis"), "colour": ("Rust",), "gender": ("Women", "Unisex")},
    ),
    (
        "colour_audience_type",
        "off white kurti for ladies",
        {"article_type": ("Kurtas", "Kurtis"), "colour": ("Off White", "Cream"), "gender": ("Women", "Unisex")},
    ),
    (
        "colour_audience_type",
        "grey sweatshirt for women",
        {
            "article_type": ("Sweatshirts",),
            "colour": ("Grey", "Grey Melange", "Charcoal"),
            "gender": ("Women", "Unisex"),
        },
    ),
    (
        "colour_audience_type",
        "pink capris for girls",
        {"article_type": ("Capris",), "colour": ("Pink", "Rose"), "gender": ("Girls",)},
    ),
    (
        "colour_audience_type",
        "blue skirt girls",
        {"article_type": ("Skirts",), "colour": ("Blue", "Navy Blue"), "gender": ("Girls",)},
    ),
    (
        "colour_audience_type",
        "mens white polo",
        {"article_type": ("Tshirts",), "colour": ("White", "Off White"), "gender": ("Men", "Unisex")},
    ),
    (
        "colour_audience_type",
        "sky blue shirt for men",
        {"article_type": ("Shirts",), "colour": ("Blue", "Turquoise Blue"), "gender": ("Men", "Unisex")},
    ),
    (
        "colour_audience_type",
        "bottle green kurta ladies",
        {"article_type": ("Kurtas", "Kurtis"), "colour": ("Green",), "gender": ("Women", "Unisex")},
    ),
    (
        "colour_audience_type",
        "khaki shorts for men",
        {"article_type": ("Shorts",), "colour": ("Khaki", "Beige"), "gender": ("Men", "Unisex")},
    ),
    (
        "colour_audience_type",
        "white tee for her",
        {
            "article_type": ("Tshirts", "Lounge Tshirts"),
            "colour": ("White", "Off White"),
            "gender": ("Women", "Unisex"),
        },
    ),
    (
        "colour_audience_type",
        "black tees boys",
        {"article_type": ("Tshirts", "Lounge Tshirts"), "colour": ("Black",), "gender": ("Boys",)},
    ),
    # --- occasion_type (42)
    ("occasion_type", "party wear dress", {"article_type": ("Dresses",), "usage": ("Party",)}),
    ("occasion_type", "gym shorts", {"article_type": ("Shorts",), "usage": ("Sports",)}),
    (
        "occasion_type",
        "office shirts for men",
        {"article_type": ("Shirts",), "gender": ("Men", "Unisex"), "usage": ("Formal", "Smart Casual")},
    ),
    (
        "occasion_type",
        "formal trousers for men",
        {"article_type": ("Trousers",), "gender": ("Men", "Unisex"), "usage": ("Formal",)},
    ),
    (
        "occasion_type",
        "office shoes for men",
        {
            "article_type": ("Casual Shoes", "Sports Shoes", "Formal Shoes"),
            "gender": ("Men", "Unisex"),
            "usage": ("Formal", "Smart Casual"),
        },
    ),
    ("occasion_type", "diwali kurta", {"article_type": ("Kurtas", "Kurtis"), "usage": ("Ethnic",)}),
    (
        "occasion_type",
        "wedding kurta for men",
        {"article_type": ("Kurtas", "Kurtis"), "gender": ("Men", "Unisex"), "usage": ("Ethnic",)},
    ),
    (
        "occasion_type",
        "festive kurta set",
        {"article_type": ("Kurta Sets", "Salwar and Dupatta"), "usage": ("Ethnic",)},
    ),
    ("occasion_type", "jogging shoes", {"article_type": ("Sports Shoes",), "usage": ("Sports",)}),
    (
        "occasion_type",
        "running shoes for women",
        {"article_type": ("Sports Shoes",), "gender": ("Women", "Unisex"), "usage": ("Sports",)},
    ),
    (
        "occasion_type",
        "gym tshirt men",
        {"article_type": ("Tshirts", "Lounge Tshirts"), "gender": ("Men", "Unisex"), "usage": ("Sports",)},
    ),
    (
        "occasion_type",
        "yoga pants for women",
        {
            "article_type": ("Track Pants", "Leggings", "Capris", "Lounge Pants"),
            "gender": ("Women", "Unisex"),
            "usage": ("Sports",),
        },
    ),
    ("occasion_type", "sports bra", {"article_type": ("Bra",), "usage": ("Sports",)}),
    ("occasion_type", "training track pants", {"article_type": ("Track Pants", "Lounge Pants"), "usage": ("Sports",)}),
    ("occasion_type", "formal skirts", {"article_type": ("Skirts",), "usage": ("Formal",)}),
    ("occasion_type", "office heels", {"article_type": ("Heels",), "usage": ("Formal", "Smart Casual")}),
    (
        "occasion_type",
        "formal belt for men",
        {"article_type": ("Belts",), "gender": ("Men", "Unisex"), "usage": ("Formal",)},
    ),
    ("occasion_type", "formal ties", {"article_type": ("Ties", "Ties and Cufflinks"), "usage": ("Formal",)}),
    (
        "occasion_type",
        "casual shirts for men",
        {"article_type": ("Shirts",), "gender": ("Men", "Unisex"), "usage": ("Casual",)},
    ),
    ("occasion_type", "daily wear flats", {"article_type": ("Flats",), "usage": ("Casual",)}),
    (
        "occasion_type",
        "casual dress for women",
        {"article_type": ("Dresses",), "gender": ("Women", "Unisex"), "usage": ("Casual",)},
    ),
    ("occasion_type", "travel backpack", {"article_type": ("Backpacks", "Rucksacks"), "usage": ("Travel",)}),
    (
        "occasion_type",
        "travel bags",
        {"article_type": ("Duffel Bag", "Backpacks", "Rucksacks", "Trolley Bag"), "usage": ("Travel",)},
    ),
    ("occasion_type", "ethnic earrings", {"article_type": ("Earrings",), "usage": ("Ethnic",)}),
    ("occasion_type", "festive saree", {"article_type": ("Sarees",), "usage": ("Ethnic",)}),
    ("occasion_type", "traditional dupatta", {"article_type": ("Dupatta",), "usage": ("Ethnic",)}),
    ("occasion_type", "navratri kurti", {"article_type": ("Kurtas", "Kurtis"), "usage": ("Ethnic",)}),
    (
        "occasion_type",
        "eid kurta for men",
        {"article_type": ("Kurtas", "Kurtis"), "gender": ("Men", "Unisex"), "usage": ("Ethnic",)},
    ),
    ("occasion_type", "football shoes", {"article_type": ("Sports Shoes",), "usage": ("Sports",)}),
    ("occasion_type", "sports socks", {"article_type": ("Socks",), "usage": ("Sports",)}),
    ("occasion_type", "gym bag", {"article_type": ("Duffel Bag", "Backpacks"), "usage": ("Sports",)}),
    ("occasion_type", "sports watch", {"article_type": ("Watches",), "usage": ("Sports",)}),
    (
        "occasion_type",
        "workout tshirt for women",
        {"article_type": ("Tshirts", "Lounge Tshirts"), "gender": ("Women", "Unisex"), "usage": ("Sports",)},
    ),
    ("occasion_type", "swimming costume", {"article_type": ("Swimwear",), "usage": ("Sports",)}),
    (
        "occasion_type",
        "training sweatshirt men",
        {"article_type": ("Sweatshirts",), "gender": ("Men", "Unisex"), "usage": ("Sports",)},
    ),
    ("occasion_type", "smart casual shirts", {"article_type": ("Shirts",), "usage": ("Smart Casual",)}),
    (
        "occasion_type",
        "formal wallet men",
        {"article_type": ("Wallets",), "gender": ("Men", "Unisex"), "usage": ("Formal",)},
    ),
    ("occasion_type", "beach slippers", {"article_type": ("Flip Flops", "Sandals")}),
    ("occasion_type", "ethnic tops", {"article_type": ("Tops", "Tshirts", "Tunics"), "usage": ("Ethnic",)}),
    ("occasion_type", "ethnic leggings", {"article_type": ("Leggings", "Jeggings"), "usage": ("Ethnic",)}),
    ("occasion_type", "yoga capris", {"article_type": ("Capris",), "usage": ("Sports",)}),
    (
        "occasion_type",
        "ladies juttis ethnic",
        {"article_type": ("Flats",), "gender": ("Women", "Unisex"), "usage": ("Ethnic",)},
    ),
    # --- audience_type (42)
    ("audience_type", "watches for him", {"article_type": ("Watches",), "gender": ("Men", "Unisex")}),
    ("audience_type", "kids sandals", {"article_type": ("Sandals", "Sports Sandals"), "gender": ("Boys", "Girls")}),
    ("audience_type", "handbags for mom", {"article_type": ("Handbags",), "gender": ("Women", "Unisex")}),
    ("audience_type", "teen boys jeans", {"article_type": ("Jeans",), "gender": ("Boys",)}),
    ("audience_type", "gents wallet", {"article_type": ("Wallets",), "gender": ("Men", "Unisex")}),
    ("audience_type", "ladies watch", {"article_type": ("Watches",), "gender": ("Women", "Unisex")}),
    ("audience_type", "sunglasses for her", {"article_type": ("Sunglasses",), "gender": ("Women", "Unisex")}),
    ("audience_type", "perfume for men", {"article_type": ("Perfume and Body Mist",), "gender": ("Men", "Unisex")}),
    ("audience_type", "deo for women", {"article_type": ("Deodorant",), "gender": ("Women", "Unisex")}),
    ("audience_type", "baby girl frocks", {"article_type": ("Dresses",), "gender": ("Girls",)}),
    ("audience_type", "girls leggings", {"article_type": ("Leggings", "Jeggings"), "gender": ("Girls",)}),
    ("audience_type", "boys shorts", {"article_type": ("Shorts",), "gender": ("Boys",)}),
    ("audience_type", "kids tshirts", {"article_type": ("Tshirts", "Lounge Tshirts"), "gender": ("Boys", "Girls")}),
    ("audience_type", "ladies kurti", {"article_type": ("Kurtas", "Kurtis"), "gender": ("Women", "Unisex")}),
    ("audience_type", "mens kurta", {"article_type": ("Kurtas", "Kurtis"), "gender": ("Men", "Unisex")}),
    ("audience_type", "belt for hubby", {"article_type": ("Belts",), "gender": ("Men", "Unisex")}),
    ("audience_type", "ladies flip flops", {"article_type": ("Flip Flops",), "gender": ("Women", "Unisex")}),
    ("audience_type", "gents slippers", {"article_type": ("Flip Flops", "Sandals"), "gender": ("Men", "Unisex")}),
    (
        "audience_type",
        "sneakers for women",
        {"article_type": ("Casual Shoes", "Sports Shoes"), "gender": ("Women", "Unisex")},
    ),
    ("audience_type", "boys shirts", {"article_type": ("Shirts",), "gender": ("Boys",)}),
    ("audience_type", "tops for daughter", {"article_type": ("Tops", "Tshirts", "Tunics"), "gender": ("Girls",)}),
    ("audience_type", "kids capri", {"article_type": ("Capris",), "gender": ("Boys", "Girls")}),
    ("audience_type", "toddler booties", {"article_type": ("Booties",), "gender": ("Boys", "Girls")}),
    ("audience_type", "baby rompers", {"article_type": ("Rompers",), "gender": ("Boys", "Girls")}),
    ("audience_type", "sweaters for women", {"article_type": ("Sweaters",), "gender": ("Women", "Unisex")}),
    ("audience_type", "jackets for men", {"article_type": ("Jackets",), "gender": ("Men", "Unisex")}),
    ("audience_type", "ladies clutch", {"article_type": ("Clutches",), "gender": ("Women", "Unisex")}),
    ("audience_type", "night suit for men", {"article_type": ("Night suits",), "gender": ("Men", "Unisex")}),
    ("audience_type", "nighty for mom", {"article_type": ("Nightdress", "Baby Dolls"), "gender": ("Women", "Unisex")}),
    ("audience_type", "mens underwear", {"article_type": ("Briefs", "Trunk", "Boxers"), "gender": ("Men", "Unisex")}),
    ("audience_type", "ladies panties", {"article_type": ("Briefs",), "gender": ("Women", "Unisex")}),
    ("audience_type", "mens baniyan", {"article_type": ("Innerwear Vests",), "gender": ("Men", "Unisex")}),
    ("audience_type", "ladies jeans", {"article_type": ("Jeans",), "gender": ("Women", "Unisex")}),
    ("audience_type", "wallet for her", {"article_type": ("Wallets",), "gender": ("Women", "Unisex")}),
    ("audience_type", "watches for girls", {"article_type": ("Watches",), "gender": ("Girls",)}),
    (
        "audience_type",
        "sling bag for wife",
        {"article_type": ("Handbags", "Messenger Bag"), "gender": ("Women", "Unisex")},
    ),
    ("audience_type", "tie for dad", {"article_type": ("Ties", "Ties and Cufflinks"), "gender": ("Men", "Unisex")}),
    ("audience_type", "perfume for mom", {"article_type": ("Perfume and Body Mist",), "gender": ("Women", "Unisex")}),
    ("audience_type", "earrings for sister", {"article_type": ("Earrings",), "gender": ("Women", "Unisex")}),
    ("audience_type", "shirt for nephew", {"article_type": ("Shirts",), "gender": ("Boys",)}),
    ("audience_type", "dress for niece", {"article_type": ("Dresses",), "gender": ("Girls",)}),
    ("audience_type", "teen girls jeans", {"article_type": ("Jeans",), "gender": ("Girls",)}),
    # --- colour_type (42)
    ("colour_type", "olive cargo pants", {"article_type": ("Trousers",), "colour": ("Olive",)}),
    ("colour_type", "cream kurti", {"article_type": ("Kurtas", "Kurtis"), "colour": ("Cream", "Off White")}),
    ("colour_type", "wine coloured lipstick", {"article_type": ("Lipstick",), "colour": ("Maroon", "Burgundy")}),
    ("colour_type", "beige handbag", {"article_type": ("Handbags",), "colour": ("Beige", "Cream")}),
    ("colour_type", "rust saree", {"article_type": ("Sarees",), "colour": ("Rust",)}),
    ("colour_type", "peach nail polish", {"article_type": ("Nail Polish",), "colour": ("Peach",)}),
    ("colour_type", "teal kurta", {"article_type": ("Kurtas", "Kurtis"), "colour": ("Teal", "Turquoise Blue")}),
    (
        "colour_type",
        "lavender nightdress",
        {"article_type": ("Nightdress", "Baby Dolls"), "colour": ("Lavender", "Mauve")},
    ),
    ("colour_type", "khaki trousers", {"article_type": ("Trousers",), "colour": ("Khaki", "Beige")}),
    ("colour_type", "mustard saree", {"article_type": ("Sarees",), "colour": ("Mustard",)}),
    (
        "colour_type",
        "off-white sneakers",
        {"article_type": ("Casual Shoes", "Sports Shoes"), "colour": ("Off White", "Cream")},
    ),
    ("colour_type", "sky blue kurti", {"article_type": ("Kurtas", "Kurtis"), "colour": ("Blue", "Turquoise Blue")}),
    ("colour_type", "bottle green saree", {"article_type": ("Sarees",), "colour": ("Green",)}),
    ("colour_type", "navy blue tie", {"article_type": ("Ties", "Ties and Cufflinks"), "colour": ("Navy Blue",)}),
    ("colour_type", "burgundy nail paint", {"article_type": ("Nail Polish",), "colour": ("Maroon", "Burgundy")}),
    ("colour_type", "red saree", {"article_type": ("Sarees",), "colour": ("Red",)}),
    ("colour_type", "black handbag", {"article_type": ("Handbags",), "colour": ("Black",)}),
    ("colour_type", "white sports shoes", {"article_type": ("Sports Shoes",), "colour": ("White", "Off White")}),
    (
        "colour_type",
        "tan shoes",
        {"article_type": ("Casual Shoes", "Sports Shoes", "Formal Shoes"), "colour": ("Tan",)},
    ),
    (
        "colour_type",
        "brown loafers",
        {
            "article_type": ("Casual Shoes", "Formal Shoes"),
            "colour": ("Brown", "Coffee Brown", "Tan", "Mushroom Brown"),
        },
    ),
    ("colour_type", "charcoal grey trousers", {"article_type": ("Trousers",), "colour": ("Charcoal",)}),
    ("colour_type", "turquoise kurta", {"article_type": ("Kurtas", "Kurtis"), "colour": ("Turquoise Blue", "Teal")}),
    ("colour_type", "gold clutch", {"article_type": ("Clutches",), "colour": ("Gold",)}),
    ("colour_type", "silver earrings", {"article_type": ("Earrings",), "colour": ("Silver", "Steel")}),
    ("colour_type", "golden heels", {"article_type": ("Heels",), "colour": ("Gold",)}),
    ("colour_type", "pink night suit", {"article_type": ("Night suits",), "colour": ("Pink", "Rose")}),
    ("colour_type", "hot pink lipstick", {"article_type": ("Lipstick",), "colour": ("Pink", "Magenta")}),
    ("colour_type", "nude bra", {"article_type": ("Bra",), "colour": ("Nude", "Skin", "Beige")}),
    ("colour_type", "copper watch", {"article_type": ("Watches",), "colour": ("Copper", "Bronze")}),
    ("colour_type", "multicolour saree", {"article_type": ("Sarees",), "colour": ("Multi",)}),
    ("colour_type", "black kajal", {"article_type": ("Kajal and Eyeliner",), "colour": ("Black",)}),
    ("colour_type", "blue eyeliner", {"article_type": ("Kajal and Eyeliner",), "colour": ("Blue", "Navy Blue")}),
    ("colour_type", "red lip gloss", {"article_type": ("Lip Gloss",), "colour": ("Red",)}),
    ("colour_type", "tan belt", {"article_type": ("Belts",), "colour": ("Tan",)}),
    ("colour_type", "olive green jacket", {"article_type": ("Jackets",), "colour": ("Olive",)}),
    ("colour_type", "yellow kurta", {"article_type": ("Kurtas", "Kurtis"), "colour": ("Yellow", "Mustard")}),
    ("colour_type", "purple handbags", {"article_type": ("Handbags",), "colour": ("Purple", "Lavender", "Mauve")}),
    ("colour_type", "orange tshirt", {"article_type": ("Tshirts", "Lounge Tshirts"), "colour": ("Orange",)}),
    ("colour_type", "sea green kurta", {"article_type": ("Kurtas", "Kurtis"), "colour": ("Sea Green",)}),
    ("colour_type", "lilac top", {"article_type": ("Tops", "Tshirts", "Tunics"), "colour": ("Lavender", "Mauve")}),
    ("colour_type", "coffee brown wallet", {"article_type": ("Wallets",), "colour": ("Coffee Brown", "Brown")}),
    ("colour_type", "cream dupatta", {"article_type": ("Dupatta",), "colour": ("Cream", "Off White")}),
    # --- brand_type (42)
    (
        "brand_type",
        "nike running shoes",
        {"article_type": ("Sports Shoes",), "usage": ("Sports",), "brand": ("Nike", "Nike Fragrances")},
    ),
    ("brand_type", "puma tees", {"article_type": ("Tshirts", "Lounge Tshirts"), "brand": ("Puma",)}),
    ("brand_type", "fastrack watch", {"article_type": ("Watches",), "brand": ("Fastrack",)}),
    (
        "brand_type",
        "adidas track pants",
        {"article_type": ("Track Pants", "Lounge Pants"), "brand": ("ADIDAS", "Adidas", "ADIDAS Originals")},
    ),
    (
        "brand_type",
        "reebok shoes",
        {"article_type": ("Casual Shoes", "Sports Shoes", "Formal Shoes"), "brand": ("Reebok",)},
    ),
    ("brand_type", "titan watches", {"article_type": ("Watches",), "brand": ("Titan",)}),
    ("brand_type", "fossil wallet", {"article_type": ("Wallets",), "brand": ("Fossil",)}),
    ("brand_type", "wrangler jeans", {"article_type": ("Jeans",), "brand": ("Wrangler",)}),
    (
        "brand_type",
        "lee cooper shoes",
        {"article_type": ("Casual Shoes", "Sports Shoes", "Formal Shoes"), "brand": ("Lee Cooper",)},
    ),
    (
        "brand_type",
        "ucb tshirt",
        {
            "article_type": ("Tshirts", "Lounge Tshirts"),
            "brand": ("United Colors of Benetton", "Undercolors of Benetton"),
        },
    ),
    ("brand_type", "fabindia kurta", {"article_type": ("Kurtas", "Kurtis"), "brand": ("Fabindia",)}),
    ("brand_type", "biba kurti", {"article_type": ("Kurtas", "Kurtis"), "brand": ("Biba",)}),
    ("brand_type", "w kurtis", {"article_type": ("Kurtas", "Kurtis"), "brand": ("W",)}),
    ("brand_type", "jockey underwear", {"article_type": ("Briefs", "Trunk", "Boxers"), "brand": ("Jockey",)}),
    ("brand_type", "baggit handbag", {"article_type": ("Handbags",), "brand": ("Baggit",)}),
    ("brand_type", "catwalk heels", {"article_type": ("Heels",), "brand": ("Catwalk",)}),
    ("brand_type", "rayban shades", {"article_type": ("Sunglasses",), "brand": ("Ray-Ban",)}),
    ("brand_type", "peter england shirts", {"article_type": ("Shirts",), "brand": ("Peter England",)}),
    (
        "brand_type",
        "us polo tshirt",
        {
            "article_type": ("Tshirts", "Lounge Tshirts"),
            "brand": ("U.S. Polo Assn.", "U.S. Polo Assn. Denim Co.", "U.S. Polo Assn. Kids"),
        },
    ),
    (
        "brand_type",
        "woodland shoes",
        {"article_type": ("Casual Shoes", "Sports Shoes", "Formal Shoes"), "brand": ("Woodland",)},
    ),
    (
        "brand_type",
        "sketchers shoes",
        {"article_type": ("Casual Shoes", "Sports Shoes", "Formal Shoes"), "brand": ("Skechers",)},
    ),
    ("brand_type", "converse sneakers", {"article_type": ("Casual Shoes", "Sports Shoes"), "brand": ("Converse",)}),
    (
        "brand_type",
        "vans shoes",
        {"article_type": ("Casual Shoes", "Sports Shoes", "Formal Shoes"), "brand": ("Vans",)},
    ),
    ("brand_type", "crocs slippers", {"article_type": ("Flip Flops", "Sandals"), "brand": ("Crocs",)}),
    ("brand_type", "lakme lipstick", {"article_type": ("Lipstick",), "brand": ("Lakme",)}),
    ("brand_type", "colorbar nail polish", {"article_type": ("Nail Polish",), "brand": ("Colorbar",)}),
    ("brand_type", "revlon kajal", {"article_type": ("Kajal and Eyeliner",), "brand": ("Revlon",)}),
    ("brand_type", "wildcraft backpack", {"article_type": ("Backpacks", "Rucksacks"), "brand": ("Wildcraft",)}),
    (
        "brand_type",
        "asics running shoes",
        {"article_type": ("Sports Shoes",), "usage": ("Sports",), "brand": ("ASICS",)},
    ),
    (
        "brand_type",
        "clarks sandals",
        {"article_type": ("Heels", "Flats", "Sandals", "Sports Sandals"), "brand": ("Clarks",)},
    ),
    ("brand_type", "enamor bra", {"article_type": ("Bra",), "brand": ("Enamor",)}),
    ("brand_type", "amante panties", {"article_type": ("Briefs",), "brand": ("Amante",)}),
    (
        "brand_type",
        "gini and jony tshirts",
        {"article_type": ("Tshirts", "Lounge Tshirts"), "brand": ("Gini and Jony",)},
    ),
    ("brand_type", "flying machine jeans", {"article_type": ("Jeans",), "brand": ("Flying Machine",)}),
    (
        "brand_type",
        "fcuk tshirts",
        {"article_type": ("Tshirts", "Lounge Tshirts"), "brand": ("French Connection", "FCUK", "FCUK Underwear")},
    ),
    ("brand_type", "police sunglasses", {"article_type": ("Sunglasses",), "brand": ("Police",)}),
    ("brand_type", "playboy deo", {"article_type": ("Deodorant",), "brand": ("Playboy",)}),
    ("brand_type", "park avenue tie", {"article_type": ("Ties", "Ties and Cufflinks"), "brand": ("Park Avenue",)}),
    ("brand_type", "aurelia kurti", {"article_type": ("Kurtas", "Kurtis"), "brand": ("AURELIA",)}),
    ("brand_type", "red rose nighty", {"article_type": ("Nightdress", "Baby Dolls"), "brand": ("Red Rose",)}),
    ("brand_type", "vero moda tops", {"article_type": ("Tops", "Tshirts", "Tunics"), "brand": ("Vero Moda",)}),
    ("brand_type", "puma sneakers", {"article_type": ("Casual Shoes", "Sports Shoes"), "brand": ("Puma",)}),
    # --- type_only (42)
    ("type_only", "sneakers", {"article_type": ("Casual Shoes", "Sports Shoes")}),
    ("type_only", "joggers", {"article_type": ("Track Pants", "Lounge Pants")}),
    ("type_only", "ear rings", {"article_type": ("Earrings",)}),
    ("type_only", "sling bag", {"article_type": ("Handbags", "Messenger Bag")}),
    ("type_only", "track pants", {"article_type": ("Track Pants", "Lounge Pants")}),
    ("type_only", "shades", {"article_type": ("Sunglasses",)}),
    ("type_only", "tees", {"article_type": ("Tshirts", "Lounge Tshirts")}),
    ("type_only", "hoodies", {"article_type": ("Sweatshirts", "Jackets")}),
    ("type_only", "pullover", {"article_type": ("Sweaters", "Sweatshirts")}),
    ("type_only", "loafers", {"article_type": ("Casual Shoes", "Formal Shoes")}),
    ("type_only", "kurti", {"article_type": ("Kurtas", "Kurtis")}),
    ("type_only", "dupatta", {"article_type": ("Dupatta",)}),
    ("type_only", "tank top", {"article_type": ("Tops", "Tshirts", "Camisoles")}),
    ("type_only", "chappals", {"article_type": ("Flip Flops", "Sandals", "Flats")}),
    ("type_only", "purse", {"article_type": ("Handbags", "Clutches", "Wallets")}),
    ("type_only", "laptop bag", {"article_type": ("Laptop Bag", "Backpacks", "Messenger Bag")}),
    ("type_only", "duffle bag", {"article_type": ("Duffel Bag",)}),
    ("type_only", "raincoat", {"article_type": ("Rain Jacket",)}),
    ("type_only", "blazer", {"article_type": ("Blazers",)}),
    ("type_only", "nehru jacket", {"article_type": ("Nehru Jackets", "Waistcoat")}),
    ("type_only", "saree", {"article_type": ("Sarees",)}),
    ("type_only", "salwar suit", {"article_type": ("Kurta Sets", "Salwar and Dupatta")}),
    ("type_only", "jeggings", {"article_type": ("Jeggings", "Leggings")}),
    ("type_only", "3/4 pants", {"article_type": ("Capris",)}),
    ("type_only", "bermuda shorts", {"article_type": ("Shorts",)}),
    ("type_only", "boxer shorts", {"article_type": ("Boxers", "Lounge Shorts")}),
    ("type_only", "banian", {"article_type": ("Innerwear Vests",)}),
    ("type_only", "pyjamas", {"article_type": ("Lounge Pants", "Night suits")}),
    ("type_only", "swimsuit", {"article_type": ("Swimwear",)}),
    ("type_only", "bangles", {"article_type": ("Bangle", "Bracelet")}),
    ("type_only", "jhumkas", {"article_type": ("Earrings",)}),
    ("type_only", "cufflinks", {"article_type": ("Cufflinks", "Ties and Cufflinks")}),
    ("type_only", "nail paint", {"article_type": ("Nail Polish",)}),
    ("type_only", "face wash", {"article_type": ("Face Wash and Cleanser",)}),
    ("type_only", "sunscreen", {"article_type": ("Sunscreen",)}),
    ("type_only", "moisturiser", {"article_type": ("Face Moisturisers", "Body Lotion")}),
    ("type_only", "stilettos", {"article_type": ("Heels",)}),
    ("type_only", "wedges", {"article_type": ("Heels",)}),
    ("type_only", "ballerinas", {"article_type": ("Flats",)}),
    ("type_only", "crop top", {"article_type": ("Tops", "Tshirts")}),
    ("type_only", "body spray", {"article_type": ("Deodorant", "Perfume and Body Mist")}),
    ("type_only", "chain for neck", {"article_type": ("Necklace and Chains", "Pendant")}),
]

"""Free-form shopper queries, fourth set ("free4"): held-out evaluation data for `benchmarks/shopper_queries.py`.

Who, when, how
--------------
Written on 2026-12-02 by an AI assistant (Claude) working as a helper session, blind to the engine. I did not
open, read, grep or list anything under search/, indexer/, api/, eval/, tests/ or fixtures/, nor the README, any
synonyms file, or any other file under benchmarks/ (only their names showed in one directory listing); I did not
read the source of benchmarks/shopper_queries.py and only ran it with `--check --set free4`. I ran no search,
server, eval or benchmark, and used no web or library search for query wording and no git history. I read the
catalog (/tmp/br3/catalog.jsonl) with small throwaway scripts outside the repository to learn which article
types, colours, genders, usages and brands exist, their spellings and frequencies, and to count grade-2 products
per intent (every query here has at least 3). The queries are my own guess at how a mix of Indian, UK and US
shoppers type into a fashion shop's search box: short, search-log style, mixed case, plurals and singulars,
varied word order, a few slips ("earings", "deodrant", "sketchers", "addidas").

Rules the intents follow
------------------------
Families, 40 queries each (240 in all): colour_audience_type, occasion_type, audience_type, colour_type,
brand_type, type_only. Intent fields: article_type always; colour, gender, usage, brand only when the query asks
for them. Each field lists every exact catalog value the shopper would accept.

Colours. A plain base word accepts its catalog family: blue -> Blue, Navy Blue, Turquoise Blue; green -> Green,
Olive, Sea Green, Lime Green, Fluorescent Green; grey -> Grey, Grey Melange, Charcoal; brown -> Brown, Coffee
Brown, Mushroom Brown; white -> White, Off White; pink -> Pink, Rose; purple -> Purple, Lavender, Mauve;
yellow -> Yellow, Mustard; beige -> Beige, Cream; black, red, orange, gold -> themselves. Shade words are
narrower: navy -> Navy Blue; maroon, wine red, burgundy -> Maroon, Burgundy; cream, off white -> Cream, Off
White; silver, steel -> Silver, Steel; sky blue -> Blue, Turquoise Blue; dark blue -> Navy Blue, Blue; mustard
yellow -> Mustard, Yellow; charcoal grey -> Charcoal, Grey; coffee brown -> Coffee Brown, Brown; fuchsia ->
Magenta, Pink; rose gold -> Rose, Gold, Copper; baby pink -> Pink; bottle green -> Green; olive green -> Olive;
heather grey -> Grey Melange; multicolour -> Multi; turquoise -> Turquoise Blue; other shade words (tan, teal,
peach, lavender, rust, khaki, sea green, mauve, bronze) -> the one catalog colour of that name.

Products. Everyday words map to article types: t shirt / tee / polo -> Tshirts; hoodie -> Sweatshirts; jumper /
sweater -> Sweaters; chinos / trousers -> Trousers; joggers -> Track Pants, Lounge Pants; dress / frock ->
Dresses; kurta -> Kurtas, Kurtis (Kurtas only when the audience is men or boys); kurti -> Kurtis, Kurtas; sari ->
Sarees; salwar suit -> Kurta Sets, Salwar and Dupatta; kurta pyjama / kurta set -> Kurta Sets; sneakers /
trainers -> Casual Shoes, Sports Shoes; running, football, cricket, tennis, basketball, badminton shoes ->
Sports Shoes; plain "shoes" for a brand or colour -> Casual Shoes, Sports Shoes, Formal Shoes; loafers -> Casual
Shoes, Formal Shoes; school shoes -> Formal Shoes, Casual Shoes; boots (Timberland) -> Casual Shoes; sandals ->
Sandals, Sports Sandals; sliders / flip flops -> Flip Flops; chappals -> Flip Flops, Sandals; stilettos / heels
-> Heels; ballet flats -> Flats; backpack / rucksack -> Backpacks, Rucksacks; duffle / gym bag -> Duffel Bag;
bum bag -> Waist Pouch; phone pouch -> Mobile Pouch; purse -> Handbags, Clutches, Wallets; underwear -> Briefs,
Trunk, Boxers; vest (men) -> Innerwear Vests; nightwear -> Nightdress, Night suits, Baby Dolls; nightie ->
Nightdress; pyjamas -> Night suits, Lounge Pants; scarf -> Scarves, Stoles; muffler -> Mufflers, Scarves;
perfume -> Perfume and Body Mist (plus Fragrance Gift Set when typed alone); deo -> Deodorant; kajal -> Kajal
and Eyeliner; nail paint -> Nail Polish; swimming costume / swimsuit / bikini -> Swimwear; raincoat -> Rain
Jacket; dressing gown -> Bath Robe, Robe; yoga pants -> Track Pants, Leggings, Capris; other words -> the
catalog type of the same meaning.

Brands. Every catalog spelling of the typed brand line: adidas / addidas -> ADIDAS, Adidas, ADIDAS Originals;
levis -> Levis, Levis Kids; us polo -> U.S. Polo Assn., U.S. Polo Assn. Denim Co., U.S. Polo Assn. Kids;
benetton / ucb -> United Colors of Benetton, Undercolors of Benetton; arrow -> Arrow, Arrow New York, Arrow
Sport, Arrow Woman; allen solly -> Allen Solly, Allen Solly Kids, Allen Solly Woman; van heusen -> Van Heusen,
Van Heusen Woman; casio -> CASIO, Casio Baby-G; fcuk -> French Connection, FCUK, FCUK Underwear; rayban ->
Ray-Ban; sketchers -> Skechers; lotus herbal -> Lotus Herbals; american tourister -> AMERICAN TOURISTER; other
brands -> their single catalog spelling (Lee does not include Lee Cooper).

Audiences. Adult words (men, mens, men's, gents, him, dad, husband / women, womens, ladies, wife, mum) -> Men or
Women, and Unisex is also accepted; boys / teen boys -> Boys; girls / baby girl -> Girls; kids -> Boys, Girls.

Usages. wedding, festive, diwali, eid, puja, mehendi, sangeet -> Ethnic; office, formal, interview -> Formal,
Smart Casual; gym, workout, running, jogging, yoga, swimming, sports and named sports -> Sports; casual,
everyday, weekend -> Casual; travel -> Travel; party -> Party. Occasions with no clear usage value (hiking, date
night, beach, night out, monsoon) leave usage out.

Nobody tunes the engine to this set.
"""

from __future__ import annotations

QUERIES: list[tuple[str, str, dict[str, tuple[str, ...]]]] = [
    # --- colour_audience_type (40)
    (
        "colour_audience_type",
        "red dress for women",
        {"article_type": ("Dresses",), "colour": ("Red",), "gender": ("Women", "Unisex")},
    ),
    (
        "colour_audience_type",
        "mens black formal shoes",
        {"article_type": ("Formal Shoes",), "colour": ("Black",), "gender": ("Men", "Unisex")},
    ),
    (
        "colour_audience_type",
        "Navy Blue Shirt Men",
        {"article_type": ("Shirts",), "colour": ("Navy Blue",), "gender": ("Men", "Unisex")},
    ),
    (
        "colour_audience_type",
        "white sneakers womens",
        {
            "article_type": ("Casual Shoes", "Sports Shoes"),
            "colour": ("White", "Off White"),
            "gender": ("Women", "Unisex"),
        },
    ),
    (
        "colour_audience_type",
        "for women pink kurti",
        {"article_type": ("Kurtis", "Kurtas"), "colour": ("Pink", "Rose"), "gender": ("Women", "Unisex")},
    ),
    (
        "colour_audience_type",
        "boys blue jeans",
        {"article_type": ("Jeans",), "colour": ("Blue", "Navy Blue", "Turquoise Blue"), "gender": ("Boys",)},
    ),
    (
        "colour_audience_type",
        "girls blue frock",
        {"article_type": ("Dresses",), "colour": ("Blue", "Navy Blue", "Turquoise Blue"), "gender": ("Girls",)},
    ),
    (
        "colour_audience_type",
        "grey hoodie men",
        {"article_type": ("Sweatshirts",), "colour": ("Grey", "Grey Melange", "Charcoal"), "gender": ("Men", "Unisex")},
    ),
    (
        "colour_audience_type",
        "ladies brown handbag",
        {
            "article_type": ("Handbags",),
            "colour": ("Brown", "Coffee Brown", "Mushroom Brown"),
            "gender": ("Women", "Unisex"),
        },
    ),
    (
        "colour_audience_type",
        "black watch for men",
        {"article_type": ("Watches",), "colour": ("Black",), "gender": ("Men", "Unisex")},
    ),
    (
        "colour_audience_type",
        "maroon saree for ladies",
        {"article_type": ("Sarees",), "colour": ("Maroon", "Burgundy"), "gender": ("Women", "Unisex")},
    ),
    (
        "colour_audience_type",
        "green t shirt boys",
        {
            "article_type": ("Tshirts",),
            "colour": ("Green", "Olive", "Sea Green", "Lime Green", "Fluorescent Green"),
            "gender": ("Boys",),
        },
    ),
    (
        "colour_audience_type",
        "womens silver earrings",
        {"article_type": ("Earrings",), "colour": ("Silver", "Steel"), "gender": ("Women", "Unisex")},
    ),
    (
        "colour_audience_type",
        "olive shorts mens",
        {"article_type": ("Shorts",), "colour": ("Olive",), "gender": ("Men", "Unisex")},
    ),
    (
        "colour_audience_type",
        "girls white top",
        {"article_type": ("Tops",), "colour": ("White", "Off White"), "gender": ("Girls",)},
    ),
    (
        "colour_audience_type",
        "purple top womens",
        {"article_type": ("Tops",), "colour": ("Purple", "Lavender", "Mauve"), "gender": ("Women", "Unisex")},
    ),
    (
        "colour_audience_type",
        "men's brown leather belt",
        {
            "article_type": ("Belts",),
            "colour": ("Brown", "Coffee Brown", "Mushroom Brown"),
            "gender": ("Men", "Unisex"),
        },
    ),
    (
        "colour_audience_type",
        "Black Heels For Women",
        {"article_type": ("Heels",), "colour": ("Black",), "gender": ("Women", "Unisex")},
    ),
    (
        "colour_audience_type",
        "grey track pants men",
        {"article_type": ("Track Pants",), "colour": ("Grey", "Grey Melange", "Charcoal"), "gender": ("Men", "Unisex")},
    ),
    (
        "colour_audience_type",
        "beige chinos men",
        {"article_type": ("Trousers",), "colour": ("Beige", "Cream"), "gender": ("Men", "Unisex")},
    ),
    (
        "colour_audience_type",
        "blue denim jacket womens",
        {
            "article_type": ("Jackets",),
            "colour": ("Blue", "Navy Blue", "Turquoise Blue"),
            "gender": ("Women", "Unisex"),
        },
    ),
    (
        "colour_audience_type",
        "pink flip flops girls",
        {"article_type": ("Flip Flops",), "colour": ("Pink", "Rose"), "gender": ("Girls",)},
    ),
    (
        "colour_audience_type",
        "gold watch ladies",
        {"article_type": ("Watches",), "colour": ("Gold",), "gender": ("Women", "Unisex")},
    ),
    (
        "colour_audience_type",
        "Black Backpack For Men",
        {"article_type": ("Backpacks", "Rucksacks"), "colour": ("Black",), "gender": ("Men", "Unisex")},
    ),
    (
        "colour_audience_type",
        "white socks mens",
        {"article_type": ("Socks",), "colour": ("White", "Off White"), "gender": ("Men", "Unisex")},
    ),
    (
        "colour_audience_type",
        "navy polo tshirt for men",
        {"article_type": ("Tshirts",), "colour": ("Navy Blue",), "gender": ("Men", "Unisex")},
    ),
    (
        "colour_audience_type",
        "kids red t-shirt",
        {"article_type": ("Tshirts",), "colour": ("Red",), "gender": ("Boys", "Girls")},
    ),
    (
        "colour_audience_type",
        "womens black leggings",
        {"article_type": ("Leggings",), "colour": ("Black",), "gender": ("Women", "Unisex")},
    ),
    (
        "colour_audience_type",
        "white kurta men",
        {"article_type": ("Kurtas",), "colour": ("White", "Off White"), "gender": ("Men", "Unisex")},
    ),
    (
        "colour_audience_type",
        "beige kurta for men",
        {"article_type": ("Kurtas",), "colour": ("Beige", "Cream"), "gender": ("Men", "Unisex")},
    ),
    (
        "colour_audience_type",
        "saree green womens",
        {
            "article_type": ("Sarees",),
            "colour": ("Green", "Olive", "Sea Green", "Lime Green", "Fluorescent Green"),
            "gender": ("Women", "Unisex"),
        },
    ),
    (
        "colour_audience_type",
        "brown sunglasses mens",
        {
            "article_type": ("Sunglasses",),
            "colour": ("Brown", "Coffee Brown", "Mushroom Brown"),
            "gender": ("Men", "Unisex"),
        },
    ),
    (
        "colour_audience_type",
        "women white sports shoes",
        {"article_type": ("Sports Shoes",), "colour": ("White", "Off White"), "gender": ("Women", "Unisex")},
    ),
    (
        "colour_audience_type",
        "mens grey trousers",
        {"article_type": ("Trousers",), "colour": ("Grey", "Grey Melange", "Charcoal"), "gender": ("Men", "Unisex")},
    ),
    (
        "colour_audience_type",
        "womens black bra",
        {"article_type": ("Bra",), "colour": ("Black",), "gender": ("Women", "Unisex")},
    ),
    (
        "colour_audience_type",
        "girls pink dress",
        {"article_type": ("Dresses",), "colour": ("Pink", "Rose"), "gender": ("Girls",)},
    ),
    (
        "colour_audience_type",
        "boys black shorts",
        {"article_type": ("Shorts",), "colour": ("Black",), "gender": ("Boys",)},
    ),
    (
        "colour_audience_type",
        "tshirt yellow womens",
        {"article_type": ("Tshirts",), "colour": ("Yellow", "Mustard"), "gender": ("Women", "Unisex")},
    ),
    (
        "colour_audience_type",
        "Mens Tan Casual Shoes",
        {"article_type": ("Casual Shoes",), "colour": ("Tan",), "gender": ("Men", "Unisex")},
    ),
    (
        "colour_audience_type",
        "womens peach tunic",
        {"article_type": ("Tunics",), "colour": ("Peach",), "gender": ("Women", "Unisex")},
    ),
    # --- occasion_type (40)
    ("occasion_type", "wedding saree", {"article_type": ("Sarees",), "usage": ("Ethnic",)}),
    (
        "occasion_type",
        "office heels women",
        {"article_type": ("Heels",), "gender": ("Women", "Unisex"), "usage": ("Formal", "Smart Casual")},
    ),
    ("occasion_type", "cricket shoes", {"article_type": ("Sports Shoes",), "usage": ("Sports",)}),
    (
        "occasion_type",
        "festive kurta men",
        {"article_type": ("Kurtas",), "gender": ("Men", "Unisex"), "usage": ("Ethnic",)},
    ),
    ("occasion_type", "hiking backpack", {"article_type": ("Backpacks", "Rucksacks")}),
    ("occasion_type", "date night heels", {"article_type": ("Heels",)}),
    (
        "occasion_type",
        "gym t shirt men",
        {"article_type": ("Tshirts",), "gender": ("Men", "Unisex"), "usage": ("Sports",)},
    ),
    (
        "occasion_type",
        "running shoes women",
        {"article_type": ("Sports Shoes",), "gender": ("Women", "Unisex"), "usage": ("Sports",)},
    ),
    ("occasion_type", "yoga pants", {"article_type": ("Track Pants", "Leggings", "Capris"), "usage": ("Sports",)}),
    ("occasion_type", "football boots", {"article_type": ("Sports Shoes",), "usage": ("Sports",)}),
    ("occasion_type", "diwali kurta pyjama", {"article_type": ("Kurta Sets",), "usage": ("Ethnic",)}),
    ("occasion_type", "party dress", {"article_type": ("Dresses",), "usage": ("Party",)}),
    (
        "occasion_type",
        "office wear shirts women",
        {"article_type": ("Shirts",), "gender": ("Women", "Unisex"), "usage": ("Formal", "Smart Casual")},
    ),
    (
        "occasion_type",
        "formal trousers for office",
        {"article_type": ("Trousers",), "usage": ("Formal", "Smart Casual")},
    ),
    (
        "occasion_type",
        "interview shirt men",
        {"article_type": ("Shirts",), "gender": ("Men", "Unisex"), "usage": ("Formal", "Smart Casual")},
    ),
    ("occasion_type", "beach flip flops", {"article_type": ("Flip Flops",)}),
    ("occasion_type", "swimming costume", {"article_type": ("Swimwear",), "usage": ("Sports",)}),
    ("occasion_type", "travel backpack", {"article_type": ("Backpacks", "Rucksacks"), "usage": ("Travel",)}),
    ("occasion_type", "festive saree", {"article_type": ("Sarees",), "usage": ("Ethnic",)}),
    ("occasion_type", "eid kurta", {"article_type": ("Kurtas", "Kurtis"), "usage": ("Ethnic",)}),
    (
        "occasion_type",
        "puja kurti women",
        {"article_type": ("Kurtis", "Kurtas"), "gender": ("Women", "Unisex"), "usage": ("Ethnic",)},
    ),
    ("occasion_type", "mehendi lehenga", {"article_type": ("Lehenga Choli",), "usage": ("Ethnic",)}),
    ("occasion_type", "sports bra", {"article_type": ("Bra",), "usage": ("Sports",)}),
    (
        "occasion_type",
        "workout shorts men",
        {"article_type": ("Shorts",), "gender": ("Men", "Unisex"), "usage": ("Sports",)},
    ),
    ("occasion_type", "tennis shoes", {"article_type": ("Sports Shoes",), "usage": ("Sports",)}),
    (
        "occasion_type",
        "formal watch men",
        {"article_type": ("Watches",), "gender": ("Men", "Unisex"), "usage": ("Formal", "Smart Casual")},
    ),
    (
        "occasion_type",
        "casual shirts men",
        {"article_type": ("Shirts",), "gender": ("Men", "Unisex"), "usage": ("Casual",)},
    ),
    ("occasion_type", "everyday flats", {"article_type": ("Flats",), "usage": ("Casual",)}),
    ("occasion_type", "weekend sneakers", {"article_type": ("Casual Shoes", "Sports Shoes"), "usage": ("Casual",)}),
    ("occasion_type", "night out clutch", {"article_type": ("Clutches",)}),
    ("occasion_type", "monsoon raincoat", {"article_type": ("Rain Jacket",)}),
    ("occasion_type", "sangeet dupatta", {"article_type": ("Dupatta",), "usage": ("Ethnic",)}),
    ("occasion_type", "wedding earrings", {"article_type": ("Earrings",), "usage": ("Ethnic",)}),
    ("occasion_type", "basketball shoes", {"article_type": ("Sports Shoes",), "usage": ("Sports",)}),
    ("occasion_type", "badminton shoes", {"article_type": ("Sports Shoes",), "usage": ("Sports",)}),
    ("occasion_type", "jogging track pants", {"article_type": ("Track Pants",), "usage": ("Sports",)}),
    ("occasion_type", "formal belt", {"article_type": ("Belts",), "usage": ("Formal", "Smart Casual")}),
    ("occasion_type", "office tie", {"article_type": ("Ties",), "usage": ("Formal", "Smart Casual")}),
    (
        "occasion_type",
        "festive kurta for boys",
        {"article_type": ("Kurtas",), "gender": ("Boys",), "usage": ("Ethnic",)},
    ),
    ("occasion_type", "gym bag", {"article_type": ("Duffel Bag",), "usage": ("Sports",)}),
    # --- audience_type (40)
    ("audience_type", "school shoes for boys", {"article_type": ("Formal Shoes", "Casual Shoes"), "gender": ("Boys",)}),
    ("audience_type", "mens wallets", {"article_type": ("Wallets",), "gender": ("Men", "Unisex")}),
    ("audience_type", "gifts for dad watch", {"article_type": ("Watches",), "gender": ("Men", "Unisex")}),
    (
        "audience_type",
        "ladies purse",
        {"article_type": ("Handbags", "Clutches", "Wallets"), "gender": ("Women", "Unisex")},
    ),
    (
        "audience_type",
        "womens nightwear",
        {"article_type": ("Nightdress", "Night suits", "Baby Dolls"), "gender": ("Women", "Unisex")},
    ),
    ("audience_type", "boys t shirts", {"article_type": ("Tshirts",), "gender": ("Boys",)}),
    ("audience_type", "kids sandals", {"article_type": ("Sandals", "Sports Sandals"), "gender": ("Boys", "Girls")}),
    ("audience_type", "girls tops", {"article_type": ("Tops",), "gender": ("Girls",)}),
    ("audience_type", "mens underwear", {"article_type": ("Briefs", "Trunk", "Boxers"), "gender": ("Men", "Unisex")}),
    ("audience_type", "ladies sandals", {"article_type": ("Sandals", "Sports Sandals"), "gender": ("Women", "Unisex")}),
    ("audience_type", "perfume for him", {"article_type": ("Perfume and Body Mist",), "gender": ("Men", "Unisex")}),
    ("audience_type", "womens deo", {"article_type": ("Deodorant",), "gender": ("Women", "Unisex")}),
    ("audience_type", "gents belt", {"article_type": ("Belts",), "gender": ("Men", "Unisex")}),
    ("audience_type", "kurta set for women", {"article_type": ("Kurta Sets",), "gender": ("Women", "Unisex")}),
    ("audience_type", "women jeans", {"article_type": ("Jeans",), "gender": ("Women", "Unisex")}),
    ("audience_type", "boys shorts", {"article_type": ("Shorts",), "gender": ("Boys",)}),
    ("audience_type", "baby girl dress", {"article_type": ("Dresses",), "gender": ("Girls",)}),
    ("audience_type", "Womens Watches", {"article_type": ("Watches",), "gender": ("Women", "Unisex")}),
    ("audience_type", "mens sunglasses", {"article_type": ("Sunglasses",), "gender": ("Men", "Unisex")}),
    ("audience_type", "ladies flip flops", {"article_type": ("Flip Flops",), "gender": ("Women", "Unisex")}),
    ("audience_type", "socks for men", {"article_type": ("Socks",), "gender": ("Men", "Unisex")}),
    ("audience_type", "girls skirts", {"article_type": ("Skirts",), "gender": ("Girls",)}),
    ("audience_type", "boys jackets", {"article_type": ("Jackets",), "gender": ("Boys",)}),
    (
        "audience_type",
        "trainers for women",
        {"article_type": ("Casual Shoes", "Sports Shoes"), "gender": ("Women", "Unisex")},
    ),
    ("audience_type", "mens cufflinks", {"article_type": ("Cufflinks",), "gender": ("Men", "Unisex")}),
    (
        "audience_type",
        "gift for wife perfume",
        {"article_type": ("Perfume and Body Mist",), "gender": ("Women", "Unisex")},
    ),
    ("audience_type", "mens vest", {"article_type": ("Innerwear Vests",), "gender": ("Men", "Unisex")}),
    ("audience_type", "womens capris", {"article_type": ("Capris",), "gender": ("Women", "Unisex")}),
    ("audience_type", "capris for girls", {"article_type": ("Capris",), "gender": ("Girls",)}),
    ("audience_type", "boys sweatshirt", {"article_type": ("Sweatshirts",), "gender": ("Boys",)}),
    ("audience_type", "leggings for girls", {"article_type": ("Leggings",), "gender": ("Girls",)}),
    ("audience_type", "mens ties", {"article_type": ("Ties",), "gender": ("Men", "Unisex")}),
    ("audience_type", "womens bracelets", {"article_type": ("Bracelet",), "gender": ("Women", "Unisex")}),
    ("audience_type", "husband gift wallet", {"article_type": ("Wallets",), "gender": ("Men", "Unisex")}),
    ("audience_type", "handbag for mum", {"article_type": ("Handbags",), "gender": ("Women", "Unisex")}),
    ("audience_type", "teen boys jeans", {"article_type": ("Jeans",), "gender": ("Boys",)}),
    ("audience_type", "ladies scarf", {"article_type": ("Scarves", "Stoles"), "gender": ("Women", "Unisex")}),
    ("audience_type", "kids kurta pyjama", {"article_type": ("Kurta Sets",), "gender": ("Boys", "Girls")}),
    ("audience_type", "boys kurta", {"article_type": ("Kurtas",), "gender": ("Boys",)}),
    ("audience_type", "womens swimsuit", {"article_type": ("Swimwear",), "gender": ("Women", "Unisex")}),
    # --- colour_type (40)
    ("colour_type", "sky blue shirt", {"article_type": ("Shirts",), "colour": ("Blue", "Turquoise Blue")}),
    ("colour_type", "wine red dress", {"article_type": ("Dresses",), "colour": ("Maroon", "Burgundy")}),
    ("colour_type", "off white kurta", {"article_type": ("Kurtas", "Kurtis"), "colour": ("Cream", "Off White")}),
    ("colour_type", "mustard yellow top", {"article_type": ("Tops",), "colour": ("Mustard", "Yellow")}),
    ("colour_type", "olive green jacket", {"article_type": ("Jackets",), "colour": ("Olive",)}),
    ("colour_type", "bottle green saree", {"article_type": ("Sarees",), "colour": ("Green",)}),
    ("colour_type", "rose gold watch", {"article_type": ("Watches",), "colour": ("Rose", "Gold", "Copper")}),
    ("colour_type", "baby pink top", {"article_type": ("Tops",), "colour": ("Pink",)}),
    ("colour_type", "peach kurti", {"article_type": ("Kurtis", "Kurtas"), "colour": ("Peach",)}),
    ("colour_type", "charcoal grey trousers", {"article_type": ("Trousers",), "colour": ("Charcoal", "Grey")}),
    ("colour_type", "heather grey tee", {"article_type": ("Tshirts",), "colour": ("Grey Melange",)}),
    (
        "colour_type",
        "tan shoes",
        {"article_type": ("Casual Shoes", "Sports Shoes", "Formal Shoes"), "colour": ("Tan",)},
    ),
    ("colour_type", "mauve lipstick", {"article_type": ("Lipstick",), "colour": ("Mauve",)}),
    ("colour_type", "red nail polish", {"article_type": ("Nail Polish",), "colour": ("Red",)}),
    ("colour_type", "black handbag", {"article_type": ("Handbags",), "colour": ("Black",)}),
    ("colour_type", "silver earrings", {"article_type": ("Earrings",), "colour": ("Silver", "Steel")}),
    ("colour_type", "gold necklace", {"article_type": ("Necklace and Chains",), "colour": ("Gold",)}),
    ("colour_type", "turquoise kurta", {"article_type": ("Kurtas", "Kurtis"), "colour": ("Turquoise Blue",)}),
    ("colour_type", "teal dress", {"article_type": ("Dresses",), "colour": ("Teal",)}),
    ("colour_type", "maroon hoodie", {"article_type": ("Sweatshirts",), "colour": ("Maroon", "Burgundy")}),
    ("colour_type", "lavender top", {"article_type": ("Tops",), "colour": ("Lavender",)}),
    ("colour_type", "rust kurta", {"article_type": ("Kurtas", "Kurtis"), "colour": ("Rust",)}),
    ("colour_type", "khaki shorts", {"article_type": ("Shorts",), "colour": ("Khaki",)}),
    ("colour_type", "coffee brown wallet", {"article_type": ("Wallets",), "colour": ("Coffee Brown", "Brown")}),
    ("colour_type", "sea green kurti", {"article_type": ("Kurtis", "Kurtas"), "colour": ("Sea Green",)}),
    ("colour_type", "fuchsia saree", {"article_type": ("Sarees",), "colour": ("Magenta", "Pink")}),
    (
        "colour_type",
        "white trainers",
        {"article_type": ("Casual Shoes", "Sports Shoes"), "colour": ("White", "Off White")},
    ),
    ("colour_type", "black jeans", {"article_type": ("Jeans",), "colour": ("Black",)}),
    ("colour_type", "multicolour bag", {"article_type": ("Handbags",), "colour": ("Multi",)}),
    ("colour_type", "beige heels", {"article_type": ("Heels",), "colour": ("Beige", "Cream")}),
    ("colour_type", "dark blue jeans", {"article_type": ("Jeans",), "colour": ("Navy Blue", "Blue")}),
    ("colour_type", "cream top", {"article_type": ("Tops",), "colour": ("Cream", "Off White")}),
    ("colour_type", "purple saree", {"article_type": ("Sarees",), "colour": ("Purple", "Lavender", "Mauve")}),
    ("colour_type", "orange tshirt", {"article_type": ("Tshirts",), "colour": ("Orange",)}),
    ("colour_type", "pink flats", {"article_type": ("Flats",), "colour": ("Pink", "Rose")}),
    (
        "colour_type",
        "brown loafers",
        {"article_type": ("Casual Shoes", "Formal Shoes"), "colour": ("Brown", "Coffee Brown", "Mushroom Brown")},
    ),
    ("colour_type", "yellow kurti", {"article_type": ("Kurtis", "Kurtas"), "colour": ("Yellow", "Mustard")}),
    ("colour_type", "steel watch", {"article_type": ("Watches",), "colour": ("Silver", "Steel")}),
    ("colour_type", "burgundy lipstick", {"article_type": ("Lipstick",), "colour": ("Maroon", "Burgundy")}),
    ("colour_type", "bronze watch", {"article_type": ("Watches",), "colour": ("Bronze",)}),
    # --- brand_type (40)
    ("brand_type", "nike running shoes", {"article_type": ("Sports Shoes",), "brand": ("Nike",)}),
    ("brand_type", "adidas tshirt", {"article_type": ("Tshirts",), "brand": ("ADIDAS", "Adidas", "ADIDAS Originals")}),
    ("brand_type", "puma flip flops", {"article_type": ("Flip Flops",), "brand": ("Puma",)}),
    ("brand_type", "levis jeans", {"article_type": ("Jeans",), "brand": ("Levis", "Levis Kids")}),
    ("brand_type", "fastrack watch", {"article_type": ("Watches",), "brand": ("Fastrack",)}),
    ("brand_type", "titan watches", {"article_type": ("Watches",), "brand": ("Titan",)}),
    ("brand_type", "rayban sunglasses", {"article_type": ("Sunglasses",), "brand": ("Ray-Ban",)}),
    ("brand_type", "casio watch", {"article_type": ("Watches",), "brand": ("CASIO", "Casio Baby-G")}),
    ("brand_type", "fabindia kurta", {"article_type": ("Kurtas", "Kurtis"), "brand": ("Fabindia",)}),
    ("brand_type", "biba kurti", {"article_type": ("Kurtis", "Kurtas"), "brand": ("Biba",)}),
    (
        "brand_type",
        "woodland shoes",
        {"article_type": ("Casual Shoes", "Sports Shoes", "Formal Shoes"), "brand": ("Woodland",)},
    ),
    (
        "brand_type",
        "us polo shirt",
        {
            "article_type": ("Shirts",),
            "brand": ("U.S. Polo Assn.", "U.S. Polo Assn. Denim Co.", "U.S. Polo Assn. Kids"),
        },
    ),
    (
        "brand_type",
        "benetton sweater",
        {"article_type": ("Sweaters",), "brand": ("United Colors of Benetton", "Undercolors of Benetton")},
    ),
    ("brand_type", "jockey briefs", {"article_type": ("Briefs",), "brand": ("Jockey",)}),
    ("brand_type", "baggit handbag", {"article_type": ("Handbags",), "brand": ("Baggit",)}),
    ("brand_type", "wildcraft backpack", {"article_type": ("Backpacks", "Rucksacks"), "brand": ("Wildcraft",)}),
    ("brand_type", "lakme lipstick", {"article_type": ("Lipstick",), "brand": ("Lakme",)}),
    ("brand_type", "revlon nail polish", {"article_type": ("Nail Polish",), "brand": ("Revlon",)}),
    ("brand_type", "reebok track pants", {"article_type": ("Track Pants",), "brand": ("Reebok",)}),
    ("brand_type", "crocs sandals", {"article_type": ("Sandals", "Sports Sandals"), "brand": ("Crocs",)}),
    (
        "brand_type",
        "sketchers shoes",
        {"article_type": ("Casual Shoes", "Sports Shoes", "Formal Shoes"), "brand": ("Skechers",)},
    ),
    (
        "brand_type",
        "addidas shoes",
        {
            "article_type": ("Casual Shoes", "Sports Shoes", "Formal Shoes"),
            "brand": ("ADIDAS", "Adidas", "ADIDAS Originals"),
        },
    ),
    ("brand_type", "converse sneakers", {"article_type": ("Casual Shoes", "Sports Shoes"), "brand": ("Converse",)}),
    ("brand_type", "Fossil Watch", {"article_type": ("Watches",), "brand": ("Fossil",)}),
    ("brand_type", "peter england shirts", {"article_type": ("Shirts",), "brand": ("Peter England",)}),
    (
        "brand_type",
        "allen solly trousers",
        {"article_type": ("Trousers",), "brand": ("Allen Solly", "Allen Solly Kids", "Allen Solly Woman")},
    ),
    ("brand_type", "van heusen shirt", {"article_type": ("Shirts",), "brand": ("Van Heusen", "Van Heusen Woman")}),
    (
        "brand_type",
        "red tape shoes",
        {"article_type": ("Casual Shoes", "Sports Shoes", "Formal Shoes"), "brand": ("Red Tape",)},
    ),
    ("brand_type", "lotus herbal sunscreen", {"article_type": ("Sunscreen",), "brand": ("Lotus Herbals",)}),
    ("brand_type", "colorbar nail paint", {"article_type": ("Nail Polish",), "brand": ("Colorbar",)}),
    ("brand_type", "wrangler jeans", {"article_type": ("Jeans",), "brand": ("Wrangler",)}),
    ("brand_type", "lee jeans", {"article_type": ("Jeans",), "brand": ("Lee",)}),
    (
        "brand_type",
        "american tourister backpack",
        {"article_type": ("Backpacks", "Rucksacks"), "brand": ("AMERICAN TOURISTER",)},
    ),
    ("brand_type", "q&q watch", {"article_type": ("Watches",), "brand": ("Q&Q",)}),
    ("brand_type", "timex watches", {"article_type": ("Watches",), "brand": ("Timex",)}),
    ("brand_type", "enamor bra", {"article_type": ("Bra",), "brand": ("Enamor",)}),
    (
        "brand_type",
        "ucb polo tshirt",
        {"article_type": ("Tshirts",), "brand": ("United Colors of Benetton", "Undercolors of Benetton")},
    ),
    ("brand_type", "timberland boots", {"article_type": ("Casual Shoes",), "brand": ("Timberland",)}),
    (
        "brand_type",
        "fcuk t shirt",
        {"article_type": ("Tshirts",), "brand": ("French Connection", "FCUK", "FCUK Underwear")},
    ),
    (
        "brand_type",
        "arrow shirts",
        {"article_type": ("Shirts",), "brand": ("Arrow", "Arrow New York", "Arrow Sport", "Arrow Woman")},
    ),
    # --- type_only (40)
    ("type_only", "sneakers", {"article_type": ("Casual Shoes", "Sports Shoes")}),
    ("type_only", "joggers", {"article_type": ("Track Pants", "Lounge Pants")}),
    ("type_only", "hoodie", {"article_type": ("Sweatshirts",)}),
    ("type_only", "jumper", {"article_type": ("Sweaters",)}),
    ("type_only", "sliders", {"article_type": ("Flip Flops",)}),
    ("type_only", "chappals", {"article_type": ("Flip Flops", "Sandals")}),
    ("type_only", "shades", {"article_type": ("Sunglasses",)}),
    ("type_only", "wrist watch", {"article_type": ("Watches",)}),
    ("type_only", "tee shirts", {"article_type": ("Tshirts",)}),
    ("type_only", "boxer shorts", {"article_type": ("Boxers",)}),
    ("type_only", "nightie", {"article_type": ("Nightdress",)}),
    ("type_only", "pyjamas", {"article_type": ("Night suits", "Lounge Pants")}),
    ("type_only", "sari", {"article_type": ("Sarees",)}),
    ("type_only", "salwar suit", {"article_type": ("Kurta Sets", "Salwar and Dupatta")}),
    ("type_only", "earings", {"article_type": ("Earrings",)}),
    ("type_only", "perfume", {"article_type": ("Perfume and Body Mist", "Fragrance Gift Set")}),
    ("type_only", "deodrant", {"article_type": ("Deodorant",)}),
    ("type_only", "lip gloss", {"article_type": ("Lip Gloss",)}),
    ("type_only", "kajal", {"article_type": ("Kajal and Eyeliner",)}),
    ("type_only", "muffler", {"article_type": ("Mufflers", "Scarves")}),
    ("type_only", "baseball cap", {"article_type": ("Caps",)}),
    ("type_only", "rucksack", {"article_type": ("Backpacks", "Rucksacks")}),
    ("type_only", "laptop bag", {"article_type": ("Laptop Bag",)}),
    ("type_only", "duffle bag", {"article_type": ("Duffel Bag",)}),
    ("type_only", "bum bag", {"article_type": ("Waist Pouch",)}),
    ("type_only", "phone pouch", {"article_type": ("Mobile Pouch",)}),
    ("type_only", "tracksuit", {"article_type": ("Tracksuits",)}),
    ("type_only", "bangles", {"article_type": ("Bangle",)}),
    ("type_only", "chinos", {"article_type": ("Trousers",)}),
    ("type_only", "stilettos", {"article_type": ("Heels",)}),
    ("type_only", "ballet flats", {"article_type": ("Flats",)}),
    ("type_only", "polo shirt", {"article_type": ("Tshirts",)}),
    ("type_only", "frock", {"article_type": ("Dresses",)}),
    ("type_only", "bikini", {"article_type": ("Swimwear",)}),
    ("type_only", "raincoat", {"article_type": ("Rain Jacket",)}),
    ("type_only", "nail paint", {"article_type": ("Nail Polish",)}),
    ("type_only", "face wash", {"article_type": ("Face Wash and Cleanser",)}),
    ("type_only", "moisturiser", {"article_type": ("Face Moisturisers",)}),
    ("type_only", "sunblock", {"article_type": ("Sunscreen",)}),
    ("type_only", "dressing gown", {"article_type": ("Bath Robe", "Robe")}),
]

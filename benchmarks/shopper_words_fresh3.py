"""A fourth held-out word list for `benchmarks/shopper_wording.py` (``--words fresh3``).

Written on 2026-12-01 (21:36-21:55 UTC) by a writer who did not open the engine's synonyms file, its synonyms
loader or its query understanding (nor anything under search/, indexer/, api/ or eval/), and who never ran the probe
against the engine (only its ``--check``, which searches nothing): it measures how well the engine's query
understanding carries to wording no one fitted to. The phrases come from the writer's general knowledge of how
shoppers in the UK, the US and India type clothes, accessories and beauty into a shop's search box; the catalog was
read only for which values exist.

Words are family and relationship words ("jiju", "mausi", "flower girl", "husband and wife"), Hindi colour words
and Indian shade names ("safed", "jamuni", "rama green", "marsala"), UK/US shade and wash names ("grey marl",
"light wash", "triple black"), Indian English and UK/US garment names ("bellies", "windcheater", "tummy tucker",
"cagoule", "boob tube", "bathing suit"), brand-generic names ("crocs", "spanx", "chapstick"), festivals and life
events ("durga puja", "nikah", "godh bharai", "farewell", "homecoming"), work ("placements", "business casual"),
sport ("padel", "netball", "kickboxing") and travel ("hill station", "cruise"). None is a phrase of
`shopper_words.py`'s ``core`` or ``fresh`` lists nor of `shopper_words_fresh2.py` (the probe's ``--check`` fails on
an overlap, plural forms included). Each phrase maps to every catalog value such a shopper would accept (the
grading set), by field: ``colour``, ``gender``, ``usage`` and ``article_type`` of the fashion adapter's catalog;
``--check`` also fails on a value the catalog lacks or a phrase no product holds. Audience phrases read after the
type ("kurtas for jiju"), as the probe phrases every non-core list.
"""

from __future__ import annotations

# colour shades (fashion, UK/US everyday, denim washes, Hindi colour words and Indian shade names) -> catalog colours
COLOUR: dict[str, tuple[str, ...]] = {
    "all black": ("Black",), "triple black": ("Black",), "noir": ("Black",), "kala": ("Black",),
    "midnight black": ("Black",),
    "pure white": ("White",), "all white": ("White",), "triple white": ("White",), "crisp white": ("White",),
    "safed": ("White", "Off White"), "winter white": ("White", "Off White", "Cream"),
    "oyster": ("Off White", "Beige", "Grey"),
    "mushroom": ("Mushroom Brown", "Taupe", "Beige", "Grey"), "mink": ("Taupe", "Brown", "Beige", "Grey"),
    "wheat": ("Tan", "Beige", "Brown"), "almond": ("Beige", "Cream", "Tan"),
    "cappuccino": ("Brown", "Beige", "Coffee Brown"), "flesh colour": ("Skin", "Nude", "Beige"),
    "chikoo": ("Brown", "Beige", "Tan"),
    "dark navy": ("Navy Blue",), "night blue": ("Navy Blue",), "prussian blue": ("Navy Blue", "Blue"),
    "bright blue": ("Blue",), "pale blue": ("Blue",), "mid blue": ("Blue",), "light wash": ("Blue",),
    "dark wash": ("Navy Blue", "Blue"), "stonewash": ("Blue",), "airforce blue": ("Blue", "Grey"),
    "neela": ("Blue", "Navy Blue"), "aasmani": ("Blue",),
    "tiffany blue": ("Turquoise Blue", "Teal"), "cyan": ("Turquoise Blue", "Blue"),
    "aquamarine": ("Turquoise Blue", "Sea Green"), "peacock green": ("Teal", "Green", "Sea Green"),
    "rama green": ("Sea Green", "Teal", "Green"),
    "bright red": ("Red",), "dark red": ("Maroon", "Red", "Burgundy"), "lal": ("Red", "Maroon"),
    "sindoori": ("Red", "Orange"), "sangria": ("Maroon", "Red", "Burgundy"), "marsala": ("Burgundy", "Maroon", "Brown"),
    "light pink": ("Pink",), "pale pink": ("Pink",), "barbie pink": ("Pink", "Magenta"),
    "dusky pink": ("Pink", "Mauve", "Rose"), "old rose": ("Rose", "Pink", "Mauve"), "pastel pink": ("Pink", "Peach"),
    "cerise": ("Pink", "Magenta", "Red"),
    "deep purple": ("Purple",), "dark purple": ("Purple",), "jamuni": ("Purple", "Magenta"),
    "baingani": ("Purple", "Magenta"),
    "light brown": ("Brown", "Tan", "Beige"), "dark tan": ("Tan", "Brown"), "cocoa": ("Brown", "Coffee Brown"),
    "saddle brown": ("Tan", "Brown"),
    "bright green": ("Green", "Lime Green"), "dark green": ("Green", "Olive"),
    "light green": ("Green", "Lime Green", "Sea Green"), "lime": ("Lime Green", "Green", "Fluorescent Green"),
    "hara": ("Green",), "apple green": ("Green", "Lime Green"), "camo": ("Olive", "Green", "Khaki", "Multi"),
    "grey marl": ("Grey Melange", "Grey"), "mid grey": ("Grey",), "pale grey": ("Grey", "Grey Melange"),
    "steel grey": ("Grey", "Steel", "Charcoal"), "titanium": ("Grey", "Silver", "Steel"),
    "bright yellow": ("Yellow",), "pale yellow": ("Yellow", "Cream"), "peela": ("Yellow",),
    "basanti": ("Yellow", "Mustard", "Orange"), "golden yellow": ("Yellow", "Gold", "Mustard"),
    "turmeric": ("Mustard", "Yellow"),
    "ginger": ("Orange", "Rust", "Brown"), "blood orange": ("Orange", "Red"),
    "gold plated": ("Gold",), "sterling silver": ("Silver",), "oxidised": ("Silver", "Bronze"),
    "stainless steel": ("Steel", "Silver"), "glitter": ("Metallic", "Gold", "Silver"),
    "multicolor": ("Multi",), "colour block": ("Multi",), "ombre": ("Multi",), "assorted": ("Multi",),
}

# who it is for (read after the type: "kurtas for jiju") -> the catalog's gender values
AUDIENCE: dict[str, tuple[str, ...]] = {
    "mummy": ("Women",), "ammi": ("Women",), "granny": ("Women",), "nan": ("Women",), "grandmother": ("Women",),
    "dadi": ("Women",), "mausi": ("Women",), "bua": ("Women",), "chachi": ("Women",), "mami": ("Women",),
    "daughter in law": ("Women",), "sister in law": ("Women",), "fiancee": ("Women",), "mum to be": ("Women",),
    "womenswear": ("Women",),
    "daddy": ("Men",), "abbu": ("Men",), "pitaji": ("Men",), "dadaji": ("Men",), "nanaji": ("Men",),
    "chacha": ("Men",), "mamaji": ("Men",), "jiju": ("Men",), "bhai": ("Men",), "bro": ("Men",),
    "brother in law": ("Men",), "son in law": ("Men",), "fiance": ("Men",), "grandfather": ("Men",),
    "menswear": ("Men",),
    "little man": ("Boys",), "little brother": ("Boys",), "godson": ("Boys",), "page boy": ("Boys",),
    "ring bearer": ("Boys",),
    "little sister": ("Girls",), "goddaughter": ("Girls",), "little princess": ("Girls",), "flower girl": ("Girls",),
    "kiddies": ("Boys", "Girls"), "school kids": ("Boys", "Girls"), "teens": ("Boys", "Girls"),
    "teenagers": ("Boys", "Girls"), "youngsters": ("Boys", "Girls"), "grandchildren": ("Boys", "Girls"),
    "nieces and nephews": ("Boys", "Girls"),
    "him and her": ("Unisex",), "husband and wife": ("Unisex",), "mr and mrs": ("Unisex",), "everybody": ("Unisex",),
    "both genders": ("Unisex",), "adults": ("Men", "Women", "Unisex"),
}

# occasions and activities -> the catalog's usage values (Casual, Sports, Ethnic, Formal, Smart Casual, Party,
# Travel, Home)
OCCASION: dict[str, tuple[str, ...]] = {
    "business casual": ("Smart Casual", "Formal"), "funeral": ("Formal",), "church": ("Formal", "Smart Casual"),
    "sunday best": ("Formal", "Smart Casual"), "awards night": ("Formal", "Party"), "convocation": ("Formal", "Ethnic"),
    "placements": ("Formal",),
    "casual friday": ("Smart Casual", "Casual"), "after work drinks": ("Smart Casual", "Party"),
    "first date": ("Smart Casual", "Party", "Casual"), "lunch date": ("Casual", "Smart Casual"),
    "afternoon tea": ("Smart Casual", "Party"), "dinner party": ("Party", "Smart Casual"),
    "table tennis": ("Sports",), "hockey": ("Sports",), "volleyball": ("Sports",), "skating": ("Sports",),
    "rugby": ("Sports",), "netball": ("Sports",), "baseball": ("Sports",), "aerobics": ("Sports",),
    "kickboxing": ("Sports",), "karate": ("Sports",), "bootcamp": ("Sports",), "padel": ("Sports",),
    "pickleball": ("Sports",), "sports meet": ("Sports",),
    "durga puja": ("Ethnic",), "ugadi": ("Ethnic",), "bihu": ("Ethnic",), "teej": ("Ethnic",),
    "sankranti": ("Ethnic",), "janmashtami": ("Ethnic",), "dussehra": ("Ethnic",), "deepavali": ("Ethnic",),
    "ramadan": ("Ethnic",), "bakrid": ("Ethnic",), "nikah": ("Ethnic",), "sagai": ("Ethnic", "Party"),
    "baraat": ("Ethnic",), "godh bharai": ("Ethnic",), "gurudwara": ("Ethnic",), "function": ("Ethnic", "Party"),
    "chilling": ("Casual", "Home"), "bbq": ("Casual",), "playdate": ("Casual",), "school trip": ("Casual", "Travel"),
    "pub": ("Casual", "Smart Casual"), "movie night": ("Casual", "Home"), "poolside": ("Casual", "Travel"),
    "music festival": ("Party", "Casual"), "gig": ("Party", "Casual"), "bachelor party": ("Party",),
    "farewell": ("Party", "Ethnic", "Formal"), "kitty party": ("Party", "Ethnic", "Casual"),
    "new year party": ("Party",), "halloween": ("Party",), "homecoming": ("Party", "Formal"),
    "pool party": ("Party", "Casual"), "wedding guest": ("Party", "Ethnic", "Formal"),
    "anniversary": ("Party", "Smart Casual", "Ethnic"), "baby shower": ("Party", "Casual", "Ethnic"),
    "trip": ("Travel", "Casual"), "hill station": ("Travel", "Casual"), "goa trip": ("Travel", "Casual", "Party"),
    "safari": ("Travel", "Casual"), "cruise": ("Travel", "Party", "Casual"), "business trip": ("Travel", "Formal"),
    "camping": ("Travel", "Casual", "Sports"), "beach holiday": ("Travel", "Casual"),
    "pilgrimage": ("Travel", "Ethnic", "Casual"),
}

# everyday, slang, regional and brand-generic names of product types -> the catalog's article types
TYPE: dict[str, tuple[str, ...]] = {
    "crew neck": ("Tshirts", "Sweaters", "Sweatshirts"), "round neck t shirt": ("Tshirts",),
    "collared t shirt": ("Tshirts",), "oversized tee": ("Tshirts",), "baby tee": ("Tshirts", "Tops"),
    "going out top": ("Tops",), "bodysuit": ("Tops",), "halter neck": ("Tops", "Dresses"), "bardot top": ("Tops",),
    "spaghetti top": ("Camisoles", "Tops"), "boob tube": ("Tops",),
    "button up": ("Shirts",), "half sleeve shirt": ("Shirts",), "full sleeve shirt": ("Shirts",),
    "mandarin collar": ("Shirts", "Kurtas"),
    "chikankari": ("Kurtas", "Kurtis", "Kurta Sets"), "salwar suit": ("Kurta Sets", "Salwar and Dupatta", "Kurtas"),
    "punjabi suit": ("Kurta Sets", "Salwar and Dupatta", "Patiala", "Kurtas"),
    "chaniya choli": ("Lehenga Choli", "Skirts"), "kanjeevaram": ("Sarees",), "banarasi": ("Sarees", "Dupatta"),
    "palazzos": ("Trousers", "Salwar"),
    "converse": ("Casual Shoes",), "crocs": ("Sandals", "Flip Flops", "Casual Shoes"),
    "clogs": ("Sandals", "Flip Flops", "Casual Shoes"), "desert boots": ("Casual Shoes",), "spikes": ("Sports Shoes",),
    "hiking boots": ("Sports Shoes", "Casual Shoes"), "school shoes": ("Formal Shoes", "Casual Shoes"),
    "mojari": ("Casual Shoes", "Formal Shoes", "Flats"), "juttis": ("Flats", "Casual Shoes"),
    "pencil heels": ("Heels",), "heeled sandals": ("Heels", "Sandals"), "bellies": ("Flats",),
    "ballet pumps": ("Flats",), "bathroom slippers": ("Flip Flops",), "pool slides": ("Flip Flops", "Sandals"),
    "shopper bag": ("Handbags",), "college bag": ("Backpacks",), "kit bag": ("Duffel Bag", "Backpacks"),
    "cabin bag": ("Trolley Bag", "Duffel Bag"), "man bag": ("Messenger Bag", "Laptop Bag"),
    "side bag": ("Messenger Bag", "Handbags"), "belt bag": ("Waist Pouch",), "mobile cover": ("Mobile Pouch",),
    "analog watch": ("Watches",), "digital watch": ("Watches",), "glares": ("Sunglasses",),
    "polarised": ("Sunglasses",),
    "woolly hat": ("Caps", "Hat"), "flat cap": ("Caps", "Hat"), "monkey cap": ("Caps",), "topi": ("Caps", "Hat"),
    "neck warmer": ("Mufflers", "Scarves"), "snood": ("Scarves", "Mufflers"),
    "bandana": ("Scarves", "Headband", "Caps"),
    "drop earrings": ("Earrings",), "chudi": ("Bangle", "Bracelet"), "kangan": ("Bangle", "Bracelet"),
    "engagement ring": ("Ring",), "neckpiece": ("Necklace and Chains", "Jewellery Set", "Pendant"),
    "kundan set": ("Jewellery Set", "Necklace and Chains"),
    "temple jewellery": ("Jewellery Set", "Necklace and Chains", "Earrings"),
    "mangalsutra": ("Necklace and Chains", "Pendant"),
    "formal pants": ("Trousers",), "cords": ("Trousers",), "mom jeans": ("Jeans",), "boyfriend jeans": ("Jeans",),
    "bootcut": ("Jeans", "Trousers"), "flares": ("Jeans", "Trousers"), "treggings": ("Jeggings", "Leggings"),
    "night pants": ("Lounge Pants", "Night suits"), "board shorts": ("Shorts", "Swimwear"),
    "swim shorts": ("Swimwear", "Shorts"), "three fourths": ("Capris", "Shorts"),
    "midi": ("Dresses", "Skirts"), "maxi": ("Dresses", "Skirts"), "tea dress": ("Dresses",),
    "shirt dress": ("Dresses",), "jumper dress": ("Dresses", "Sweaters"), "lbd": ("Dresses",),
    "western dress": ("Dresses", "Tops"), "boiler suit": ("Jumpsuit",), "overalls": ("Jumpsuit", "Rompers"),
    "woollens": ("Sweaters", "Sweatshirts"), "half sweater": ("Sweaters",),
    "half zip": ("Sweatshirts", "Sweaters", "Jackets"), "zipper": ("Sweatshirts", "Jackets"),
    "windcheater": ("Jackets", "Rain Jacket"), "cagoule": ("Rain Jacket", "Jackets"),
    "body warmer": ("Jackets", "Waistcoat"), "jerkin": ("Jackets",), "coat pant": ("Blazers",), "tuxedo": ("Blazers",),
    "chaddi": ("Briefs", "Trunk", "Boxers"), "t shirt bra": ("Bra",), "push up": ("Bra",),
    "innerwear": ("Briefs", "Trunk", "Boxers", "Bra", "Innerwear Vests"),
    "undergarments": ("Briefs", "Trunk", "Boxers", "Bra", "Innerwear Vests"), "spanx": ("Shapewear",),
    "tummy tucker": ("Shapewear",), "nylons": ("Stockings", "Tights"),
    "lounge set": ("Night suits", "Lounge Pants", "Lounge Tshirts"),
    "nightwear": ("Night suits", "Nightdress", "Lounge Pants", "Baby Dolls", "Lounge Shorts"),
    "bikini": ("Swimwear",), "cossie": ("Swimwear",), "bathing suit": ("Swimwear",),
    "swimming trunks": ("Swimwear", "Shorts"),
    "jogging suit": ("Tracksuits",), "sweatsuit": ("Tracksuits",),
    "lip pencil": ("Lip Liner",), "chapstick": ("Lip Care",), "eye pencil": ("Kajal and Eyeliner",),
    "surma": ("Kajal and Eyeliner",),
    "bb cream": ("Foundation and Primer", "Face Moisturisers"),
    "tinted moisturiser": ("Foundation and Primer", "Face Moisturisers"), "face powder": ("Compact",),
    "eau de parfum": ("Perfume and Body Mist",), "aftershave": ("Perfume and Body Mist",),
    "day cream": ("Face Moisturisers",), "eye palette": ("Eyeshadow",), "face pack": ("Mask and Peel",),
    "scrub": ("Face Scrub and Exfoliator", "Body Wash and Scrub"), "rose water": ("Toner",),
    "micellar water": ("Makeup Remover", "Face Wash and Cleanser"), "dark circle cream": ("Eye Cream",),
    "cold cream": ("Face Moisturisers", "Body Lotion"), "sun lotion": ("Sunscreen",),
    "henna": ("Hair Colour",),
    "mittens": ("Gloves",), "soccer ball": ("Footballs",), "charm bracelet": ("Bracelet",),
}

FRESH3 = {"colour": COLOUR, "gender": AUDIENCE, "usage": OCCASION, "article_type": TYPE}

"""A third held-out word list for `benchmarks/shopper_wording.py` (``--words fresh2``, issue #13).

Written on 2026-12-01 (07:05-07:30 UTC), BEFORE that day's extension of the engine's synonyms, by a writer who had
not seen the engine's synonyms file, its synonyms loader or its query understanding (they were not opened), and who
never ran the probe against the engine. The helper extending the synonyms that day did not see this list either:
it measures how well their general-knowledge synonyms carry to wording no one fitted.

Words come from how shoppers in the UK, the US and India type clothes into search boxes: family words ("my wife",
"hubby", "nani"), regional garment names ("plimsolls", "floaters", "lowers"), fashion and Indian shade names
("merlot", "rani pink"), slang ("lippie", "cardi"), occasions ("school run", "date night", "navratri") and
activities ("cycling", "badminton"). None is a phrase of `shopper_words.py`'s ``core`` or ``fresh`` lists (the
probe's ``--check`` fails on an overlap, plural forms included). Each phrase maps to every catalog value such a
shopper would accept (the grading set), by field: ``colour``, ``gender``, ``usage`` and ``article_type`` of the
fashion adapter's catalog; ``--check`` also fails on a value the catalog lacks or a phrase no product holds.
Audience phrases read after the type ("kurtas for my wife"), as the probe phrases every non-core list.
"""

from __future__ import annotations

# colour shades (fashion, UK/US everyday and Indian shade names) -> the catalog colours they are
COLOUR: dict[str, tuple[str, ...]] = {
    "onyx": ("Black",), "ebony": ("Black",), "raven black": ("Black",), "matte black": ("Black",),
    "optic white": ("White",), "chalk white": ("White", "Off White"), "milky white": ("White", "Off White", "Cream"),
    "ecru": ("Off White", "Cream", "Beige"), "vanilla": ("Cream", "Off White"),
    "french navy": ("Navy Blue",), "oxford blue": ("Navy Blue",), "admiral blue": ("Navy Blue",),
    "denim blue": ("Blue", "Navy Blue"), "steel blue": ("Blue",), "ice blue": ("Blue",),
    "duck egg blue": ("Turquoise Blue", "Blue"), "firozi": ("Turquoise Blue", "Teal"),
    "teal blue": ("Teal", "Turquoise Blue", "Blue"),
    "blood red": ("Red",), "poppy red": ("Red",), "pillar box red": ("Red",), "vermilion": ("Red", "Orange"),
    "merlot": ("Burgundy", "Maroon"), "bordeaux": ("Burgundy", "Maroon"), "garnet": ("Maroon", "Burgundy", "Red"),
    "deep red": ("Red", "Maroon"),
    "candy pink": ("Pink",), "flamingo pink": ("Pink",), "shocking pink": ("Pink", "Magenta"),
    "neon pink": ("Pink", "Magenta"), "rani pink": ("Magenta", "Pink"), "gulabi": ("Pink",),
    "onion pink": ("Pink", "Peach", "Mauve"), "nude pink": ("Nude", "Pink", "Peach"),
    "raspberry": ("Pink", "Magenta", "Red"),
    "amethyst": ("Purple",), "orchid": ("Purple", "Lavender", "Mauve"), "periwinkle": ("Lavender", "Blue", "Purple"),
    "berry": ("Purple", "Burgundy", "Maroon", "Magenta"),
    "caramel": ("Tan", "Brown", "Beige"), "cinnamon": ("Brown", "Rust", "Tan"), "walnut": ("Brown", "Coffee Brown"),
    "mahogany": ("Brown", "Maroon", "Burgundy"), "tobacco": ("Brown", "Tan"), "terracotta": ("Rust", "Orange", "Brown"),
    "skin tone": ("Skin", "Nude", "Beige"), "putty": ("Beige", "Grey", "Taupe"), "greige": ("Grey", "Beige", "Taupe"),
    "jade": ("Green", "Sea Green"), "neon green": ("Fluorescent Green", "Lime Green", "Green"),
    "parrot green": ("Green", "Lime Green"), "mehendi green": ("Olive", "Green"), "moss green": ("Olive", "Green"),
    "hunter green": ("Green",), "racing green": ("Green",), "pine green": ("Green",), "grass green": ("Green",),
    "pistachio": ("Green", "Lime Green"), "khaki green": ("Olive", "Khaki", "Green"),
    "silver grey": ("Grey", "Silver"), "dove grey": ("Grey",), "storm grey": ("Grey", "Charcoal"),
    "anthracite": ("Charcoal", "Grey"),
    "mango yellow": ("Yellow", "Mustard", "Orange"), "haldi yellow": ("Yellow", "Mustard"),
    "neon yellow": ("Yellow", "Fluorescent Green", "Lime Green"), "ochre": ("Mustard", "Yellow"),
    "amber": ("Mustard", "Orange", "Yellow"), "pastel yellow": ("Yellow", "Cream"),
    "pumpkin": ("Orange", "Rust"), "apricot": ("Peach", "Orange"), "kesari": ("Orange",), "carrot orange": ("Orange",),
    "gold tone": ("Gold",), "silver tone": ("Silver", "Steel"), "platinum": ("Silver", "Steel", "Metallic"),
    "brass": ("Gold", "Bronze", "Copper"),
    "tie dye": ("Multi",), "two tone": ("Multi",), "patchwork": ("Multi",),
}

# who it is for (read after the type: "kurtas for my wife") -> the catalog's gender values
AUDIENCE: dict[str, tuple[str, ...]] = {
    "my wife": ("Women",), "wife": ("Women",), "wifey": ("Women",), "the missus": ("Women",),
    "girlfriend": ("Women",), "my girlfriend": ("Women",), "gf": ("Women",), "aunty": ("Women",),
    "auntie": ("Women",), "mother in law": ("Women",), "bridesmaids": ("Women",), "nani": ("Women",),
    "didi": ("Women",), "bhabhi": ("Women",),
    "my husband": ("Men",), "husband": ("Men",), "hubby": ("Men",), "boyfriend": ("Men",), "my boyfriend": ("Men",),
    "bf": ("Men",), "uncle": ("Men",), "father in law": ("Men",), "groomsmen": ("Men",), "best man": ("Men",),
    "grandad": ("Men",), "papa": ("Men",), "bhaiya": ("Men",), "lads": ("Men",), "blokes": ("Men",),
    "fellas": ("Men",),
    "nephew": ("Boys",), "grandson": ("Boys",), "baby boy": ("Boys",), "toddler boy": ("Boys",),
    "niece": ("Girls",), "granddaughter": ("Girls",), "baby girl": ("Girls",), "toddler girl": ("Girls",),
    "tweens": ("Boys", "Girls"), "little ones": ("Boys", "Girls"), "grandkids": ("Boys", "Girls"),
    "juniors": ("Boys", "Girls"),
    "his and hers": ("Unisex",), "anyone": ("Unisex",), "all genders": ("Unisex",),
}

# occasions and activities -> the catalog's usage values (Casual, Sports, Ethnic, Formal, Smart Casual, Party,
# Travel, Home)
OCCASION: dict[str, tuple[str, ...]] = {
    "board meeting": ("Formal",), "client meeting": ("Formal",), "boardroom": ("Formal",),
    "nine to five": ("Formal",), "black tie": ("Formal", "Party"), "graduation": ("Formal", "Party"),
    "dress down friday": ("Smart Casual", "Casual"), "office party": ("Party", "Smart Casual", "Formal"),
    "cycling": ("Sports",), "badminton": ("Sports",), "swimming": ("Sports",), "marathon": ("Sports",),
    "cardio": ("Sports",), "spin class": ("Sports",), "boxing": ("Sports",), "martial arts": ("Sports",),
    "hiit": ("Sports",), "golf": ("Sports",), "hiking": ("Sports", "Travel"), "trekking": ("Sports", "Travel"),
    "parkrun": ("Sports",), "sports day": ("Sports",), "morning walk": ("Sports", "Casual"),
    "athleisure": ("Sports", "Casual"),
    "navratri": ("Ethnic",), "garba": ("Ethnic",), "dandiya": ("Ethnic",), "mehndi": ("Ethnic",),
    "haldi": ("Ethnic",), "onam": ("Ethnic",), "rakhi": ("Ethnic",), "raksha bandhan": ("Ethnic",),
    "ganesh chaturthi": ("Ethnic",), "baisakhi": ("Ethnic",), "lohri": ("Ethnic",), "shaadi": ("Ethnic",),
    "gurpurab": ("Ethnic",), "housewarming": ("Ethnic", "Casual"),
    "school run": ("Casual",), "brunch": ("Casual", "Smart Casual"), "coffee date": ("Casual", "Smart Casual"),
    "picnic": ("Casual",), "hanging out": ("Casual",), "campus": ("Casual",), "uni": ("Casual",),
    "beach day": ("Casual", "Travel"), "wfh": ("Home", "Casual"), "around the house": ("Home", "Casual"),
    "date night": ("Party", "Smart Casual"), "new years eve": ("Party",), "prom": ("Party", "Formal"),
    "house party": ("Party", "Casual"), "hen do": ("Party",), "stag do": ("Party",), "christmas party": ("Party",),
    "concert": ("Party", "Casual"), "rave": ("Party",), "freshers party": ("Party", "Casual"),
    "airport": ("Travel", "Casual"), "long flight": ("Travel", "Casual"), "backpacking": ("Travel", "Casual"),
    "weekend getaway": ("Travel", "Casual"), "honeymoon": ("Travel", "Party", "Casual"),
    "staycation": ("Travel", "Casual"), "city break": ("Travel", "Casual"),
}

# everyday, slang and regional names of product types -> the catalog's article types
TYPE: dict[str, tuple[str, ...]] = {
    "t shirts": ("Tshirts",), "jersey": ("Tshirts",), "football shirt": ("Tshirts",), "ringer tee": ("Tshirts",),
    "crop top": ("Tops", "Tshirts"), "vest top": ("Tops", "Camisoles"), "peplum top": ("Tops",),
    "off shoulder top": ("Tops",), "kaftan": ("Tunics", "Tops", "Kurtis", "Dresses"),
    "singlet": ("Innerwear Vests", "Tshirts"),
    "checked shirt": ("Shirts",), "chambray shirt": ("Shirts",), "hawaiian shirt": ("Shirts",),
    "shacket": ("Shirts", "Jackets"),
    "anarkali": ("Kurtas", "Kurtis", "Kurta Sets"), "salwar kameez": ("Kurta Sets", "Salwar and Dupatta", "Kurtas"),
    "kurta pyjama": ("Kurta Sets", "Kurtas"), "pathani suit": ("Kurta Sets", "Kurtas"),
    "chunni": ("Dupatta", "Stoles"), "odhni": ("Dupatta", "Stoles"), "ghagra choli": ("Lehenga Choli", "Skirts"),
    "bandhgala": ("Nehru Jackets", "Blazers"), "modi jacket": ("Nehru Jackets",),
    "plimsolls": ("Casual Shoes",), "boat shoes": ("Casual Shoes",), "deck shoes": ("Casual Shoes",),
    "moccasins": ("Casual Shoes",), "espadrilles": ("Casual Shoes", "Flats"),
    "wingtips": ("Formal Shoes",), "monk straps": ("Formal Shoes",), "lace ups": ("Formal Shoes", "Casual Shoes"),
    "football boots": ("Sports Shoes",), "cleats": ("Sports Shoes",), "walking shoes": ("Sports Shoes", "Casual Shoes"),
    "trail shoes": ("Sports Shoes",),
    "block heels": ("Heels", "Sandals"), "platforms": ("Heels", "Sandals"), "peep toes": ("Heels", "Flats"),
    "mary janes": ("Flats", "Heels"), "mules": ("Flats", "Heels", "Casual Shoes"),
    "floaters": ("Sandals", "Sports Sandals"), "sliders": ("Flip Flops", "Sandals"), "hawai chappal": ("Flip Flops",),
    "sling bag": ("Handbags", "Messenger Bag"), "crossbody bag": ("Handbags", "Messenger Bag"),
    "satchel": ("Handbags", "Messenger Bag", "Laptop Bag"), "hobo bag": ("Handbags",),
    "evening bag": ("Clutches", "Handbags"), "potli": ("Clutches", "Handbags"),
    "briefcase": ("Laptop Bag", "Messenger Bag"), "office bag": ("Laptop Bag", "Messenger Bag", "Handbags", "Backpacks"),
    "bookbag": ("Backpacks",), "knapsack": ("Backpacks", "Rucksacks"), "weekender": ("Duffel Bag",),
    "overnight bag": ("Duffel Bag",), "luggage": ("Trolley Bag", "Duffel Bag"), "phone pouch": ("Mobile Pouch",),
    "passport holder": ("Wallets", "Travel Accessory"),
    "chronograph": ("Watches",), "goggles": ("Sunglasses",), "cooling glasses": ("Sunglasses",),
    "wayfarers": ("Sunglasses",),
    "beanie": ("Caps", "Hat"), "snapback": ("Caps",), "bucket hat": ("Hat", "Caps"), "trucker cap": ("Caps",),
    "pashmina": ("Stoles", "Scarves"), "braces": ("Suspenders",), "bow tie": ("Ties",),
    "choker": ("Necklace and Chains", "Jewellery Set"), "locket": ("Pendant",), "kada": ("Bangle", "Bracelet"),
    "danglers": ("Earrings",), "chandbalis": ("Earrings",),
    "yoga pants": ("Leggings", "Track Pants"), "cargos": ("Trousers", "Shorts"), "culottes": ("Capris", "Trousers"),
    "skinny jeans": ("Jeans",), "jorts": ("Shorts",), "khakis": ("Trousers",), "pedal pushers": ("Capris",),
    "lowers": ("Track Pants", "Lounge Pants"), "tracksuit bottoms": ("Track Pants",), "shell suit": ("Tracksuits",),
    "bodycon": ("Dresses",), "shift dress": ("Dresses",), "skater dress": ("Dresses",), "wrap dress": ("Dresses",),
    "one piece": ("Dresses",), "playsuit": ("Jumpsuit", "Rompers"), "dungarees": ("Jumpsuit", "Rompers"),
    "turtleneck": ("Sweaters", "Tshirts", "Tops"), "polo neck": ("Sweaters", "Tshirts"),
    "zip up": ("Sweatshirts", "Jackets"), "cardi": ("Sweaters", "Shrug"),
    "puffer jacket": ("Jackets",), "biker jacket": ("Jackets",), "raincoat": ("Rain Jacket", "Jackets"),
    "gilet": ("Jackets", "Waistcoat"), "sport coat": ("Blazers",), "suit jacket": ("Blazers",),
    "knickers": ("Briefs",), "panties": ("Briefs",), "boxer briefs": ("Trunk", "Boxers", "Briefs"),
    "lingerie": ("Bra", "Briefs", "Baby Dolls", "Camisoles"), "body shaper": ("Shapewear",),
    "trainer socks": ("Socks",), "hosiery": ("Stockings", "Tights", "Socks"), "housecoat": ("Robe", "Bath Robe"),
    "sleep shorts": ("Lounge Shorts", "Night suits"), "swimsuit": ("Swimwear",), "swimming costume": ("Swimwear",),
    "lippie": ("Lipstick", "Lip Gloss"), "blusher": ("Highlighter and Blush",), "bronzer": ("Highlighter and Blush",),
    "pressed powder": ("Compact",), "nail enamel": ("Nail Polish",), "nail lacquer": ("Nail Polish",),
    "eau de toilette": ("Perfume and Body Mist",), "attar": ("Perfume and Body Mist",), "roll on": ("Deodorant",),
    "sun cream": ("Sunscreen",), "spf": ("Sunscreen", "Face Moisturisers"), "sheet mask": ("Mask and Peel",),
    "night cream": ("Face Moisturisers",), "body butter": ("Body Lotion",),
    "sipper": ("Water Bottle",), "brolly": ("Umbrellas",), "sweatband": ("Wristbands", "Headband"),
}

FRESH2 = {"colour": COLOUR, "gender": AUDIENCE, "usage": OCCASION, "article_type": TYPE}

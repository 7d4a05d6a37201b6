"""Everyday shopper words for the fashion catalog's labels: the wording of `benchmarks/shopper_wording.py`.

Kept apart from `search/default_synonyms.txt` on purpose (written before that file was extended, from general
knowledge of how people ask for clothes in shops and search boxes), so that the probe does not grade the engine
with its own synonyms; the probe reports which of these words the shipped file holds and which it does not.
Each phrase maps to every catalog value a shopper typing it would accept (the grading set), by field:
``colour``, ``gender``, ``usage`` and ``article_type`` of the fashion adapter's catalog.
"""

from __future__ import annotations

# colour shades -> the catalog colours they are
COLOUR: dict[str, tuple[str, ...]] = {
    "jet black": ("Black",), "pitch black": ("Black",), "inky black": ("Black",),
    "snow white": ("White",), "bright white": ("White",), "pearl white": ("White", "Off White"),
    "ivory": ("Off White", "Cream"), "eggshell": ("Off White", "Cream"), "bone": ("Off White", "Cream", "Beige"),
    "navy": ("Navy Blue",), "midnight blue": ("Navy Blue",), "ink blue": ("Navy Blue",),
    "dark blue": ("Navy Blue", "Blue"), "indigo": ("Navy Blue", "Blue"),
    "sky blue": ("Blue",), "baby blue": ("Blue",), "light blue": ("Blue",), "powder blue": ("Blue",),
    "royal blue": ("Blue",), "cobalt": ("Blue",), "electric blue": ("Blue",), "cornflower blue": ("Blue",),
    "aqua": ("Turquoise Blue", "Teal"), "turquoise": ("Turquoise Blue", "Teal"), "peacock blue": ("Teal", "Turquoise Blue"),
    "petrol blue": ("Teal",),
    "scarlet": ("Red",), "crimson": ("Red",), "cherry red": ("Red",), "tomato red": ("Red",), "ruby": ("Red",),
    "fire red": ("Red",),
    "wine": ("Maroon", "Burgundy"), "oxblood": ("Maroon", "Burgundy"), "wine red": ("Maroon", "Burgundy"),
    "claret": ("Maroon", "Burgundy"), "cranberry": ("Maroon", "Burgundy", "Red"),
    "blush": ("Pink", "Peach", "Nude"), "baby pink": ("Pink",), "hot pink": ("Pink", "Magenta"),
    "fuchsia": ("Magenta", "Pink"), "rose pink": ("Pink", "Rose"), "bubblegum pink": ("Pink",),
    "dusty pink": ("Pink", "Mauve"), "salmon": ("Peach", "Pink", "Orange"), "coral": ("Peach", "Pink", "Orange"),
    "lilac": ("Lavender", "Purple", "Mauve"), "violet": ("Purple", "Lavender"), "plum": ("Purple", "Burgundy", "Maroon"),
    "grape": ("Purple",), "aubergine": ("Purple", "Burgundy"), "eggplant": ("Purple",),
    "camel": ("Beige", "Tan", "Brown"), "sand": ("Beige", "Tan"), "stone": ("Beige", "Grey"), "oatmeal": ("Beige", "Cream"),
    "biscuit": ("Beige", "Tan"), "fawn": ("Beige", "Tan"),
    "chocolate": ("Brown", "Coffee Brown"), "coffee": ("Coffee Brown", "Brown"), "mocha": ("Brown", "Coffee Brown"),
    "chestnut": ("Brown",), "cognac": ("Brown", "Tan"), "dark brown": ("Brown", "Coffee Brown"),
    "army green": ("Olive", "Khaki", "Green"), "military green": ("Olive", "Khaki", "Green"),
    "olive green": ("Olive",),
    "emerald": ("Green",), "forest green": ("Green",), "bottle green": ("Green",), "mint": ("Green", "Sea Green"),
    "sage": ("Green", "Olive"), "pista green": ("Green", "Lime Green"), "leaf green": ("Green",),
    "kelly green": ("Green",),
    "charcoal grey": ("Charcoal", "Grey"), "dark grey": ("Charcoal", "Grey"), "slate": ("Grey", "Charcoal"),
    "graphite": ("Charcoal", "Grey"), "ash grey": ("Grey", "Grey Melange"), "heather grey": ("Grey Melange", "Grey"),
    "light grey": ("Grey", "Grey Melange"), "gray": ("Grey", "Grey Melange"), "marl grey": ("Grey Melange", "Grey"),
    "smoke grey": ("Grey",),
    "mustard yellow": ("Mustard", "Yellow"), "lemon": ("Yellow",), "canary yellow": ("Yellow",),
    "sunflower yellow": ("Yellow",), "butter yellow": ("Yellow", "Cream"),
    "tangerine": ("Orange",), "burnt orange": ("Orange", "Rust"), "neon orange": ("Orange",),
    "golden": ("Gold",), "champagne": ("Gold", "Beige"), "rose gold": ("Rose", "Gold", "Copper"),
    "silvery": ("Silver", "Steel", "Metallic"), "chrome": ("Silver", "Steel", "Metallic"),
    "gunmetal": ("Grey", "Steel", "Charcoal"),
    "multicolour": ("Multi",), "multi coloured": ("Multi",), "rainbow": ("Multi",), "colourful": ("Multi",),
}

# who it is for -> the catalog's gender values (a Unisex product suits men and women: see the probe's grading)
AUDIENCE: dict[str, tuple[str, ...]] = {
    "ladies": ("Women",), "womens": ("Women",), "woman": ("Women",), "female": ("Women",), "her": ("Women",),
    "lady": ("Women",), "gals": ("Women",),
    "mens": ("Men",), "guys": ("Men",), "gents": ("Men",), "gentlemen": ("Men",), "male": ("Men",), "him": ("Men",),
    "man": ("Men",), "dudes": ("Men",),
    "little boys": ("Boys",), "teen boys": ("Boys",), "my son": ("Boys",),
    "little girls": ("Girls",), "teen girls": ("Girls",), "my daughter": ("Girls",),
    "kids": ("Boys", "Girls"), "children": ("Boys", "Girls"), "toddlers": ("Boys", "Girls"), "youth": ("Boys", "Girls"),
    "gender neutral": ("Unisex",), "everyone": ("Unisex",),
}
# how an audience phrase reads before the type ("ladies red tops") and after it ("red tops for ladies")
AUDIENCE_AFTER_ONLY = frozenset({"her", "him", "my son", "my daughter", "everyone"})

# occasions and activities -> the catalog's usage values
OCCASION: dict[str, tuple[str, ...]] = {
    "office": ("Formal",), "work": ("Formal",), "business": ("Formal",), "corporate": ("Formal",),
    "interview": ("Formal",), "workwear": ("Formal",), "professional": ("Formal",),
    "gym": ("Sports",), "workout": ("Sports",), "running": ("Sports",), "jogging": ("Sports",), "training": ("Sports",),
    "yoga": ("Sports",), "fitness": ("Sports",), "athletic": ("Sports",), "football": ("Sports",), "tennis": ("Sports",),
    "cricket": ("Sports",), "exercise": ("Sports",), "basketball": ("Sports",),
    "wedding": ("Ethnic",), "festive": ("Ethnic",), "festival": ("Ethnic",), "traditional": ("Ethnic",),
    "diwali": ("Ethnic",), "puja": ("Ethnic",), "eid": ("Ethnic",), "sangeet": ("Ethnic",),
    "everyday": ("Casual",), "daily wear": ("Casual",), "weekend": ("Casual",), "lounge": ("Casual",),
    "relaxed": ("Casual",), "college": ("Casual",), "day out": ("Casual",),
    "night out": ("Party",), "clubbing": ("Party",), "cocktail": ("Party",), "partywear": ("Party",),
    "holiday": ("Travel",), "vacation": ("Travel",),
}

# everyday names of product types -> the catalog's article types
TYPE: dict[str, tuple[str, ...]] = {
    "tees": ("Tshirts",), "tee shirts": ("Tshirts",), "graphic tees": ("Tshirts",), "polo shirts": ("Tshirts",),
    "polos": ("Tshirts",),
    "button down shirts": ("Shirts",), "dress shirts": ("Shirts",), "oxford shirts": ("Shirts",),
    "sneakers": ("Casual Shoes", "Sports Shoes"), "kicks": ("Casual Shoes", "Sports Shoes"),
    "canvas shoes": ("Casual Shoes",), "slip ons": ("Casual Shoes",), "lounge shoes": ("Casual Shoes",),
    "everyday shoes": ("Casual Shoes",), "loafers": ("Casual Shoes", "Formal Shoes"),
    "trainers": ("Sports Shoes", "Casual Shoes"), "running shoes": ("Sports Shoes",), "runners": ("Sports Shoes",),
    "gym shoes": ("Sports Shoes",), "training shoes": ("Sports Shoes",), "athletic shoes": ("Sports Shoes",),
    "tennis shoes": ("Sports Shoes", "Casual Shoes"),
    "dress shoes": ("Formal Shoes",), "oxfords": ("Formal Shoes",), "brogues": ("Formal Shoes",),
    "derby shoes": ("Formal Shoes",), "office shoes": ("Formal Shoes",), "work shoes": ("Formal Shoes",),
    "pumps": ("Heels",), "stilettos": ("Heels",), "high heels": ("Heels",), "kitten heels": ("Heels",),
    "wedges": ("Heels", "Sandals"),
    "ballet flats": ("Flats",), "ballerinas": ("Flats",), "flat shoes": ("Flats",),
    "slippers": ("Flip Flops", "Sandals"), "chappals": ("Flip Flops", "Sandals"), "slides": ("Flip Flops", "Sandals"),
    "strappy sandals": ("Sandals", "Heels"),
    "purse": ("Handbags", "Wallets", "Clutches"), "tote": ("Handbags",), "shoulder bag": ("Handbags",),
    "hand bag": ("Handbags",),
    "rucksack": ("Backpacks", "Rucksacks"), "school bag": ("Backpacks",), "daypack": ("Backpacks",),
    "billfold": ("Wallets",), "card holder": ("Wallets",),
    "timepiece": ("Watches",), "wristwatch": ("Watches",), "wrist watch": ("Watches",),
    "shades": ("Sunglasses",), "sunnies": ("Sunglasses",), "aviators": ("Sunglasses",),
    "sari": ("Sarees",),
    "underwear": ("Briefs", "Trunk", "Boxers"), "undies": ("Briefs", "Trunk", "Boxers"),
    "underpants": ("Briefs", "Trunk", "Boxers"),
    "brassiere": ("Bra",), "bralette": ("Bra",),
    "hoodie": ("Sweatshirts",), "hoody": ("Sweatshirts",), "hooded sweatshirt": ("Sweatshirts",),
    "jumper": ("Sweaters",), "pullover": ("Sweaters", "Sweatshirts"), "cardigan": ("Sweaters",),
    "knitwear": ("Sweaters",),
    "joggers": ("Track Pants",), "sweatpants": ("Track Pants",), "trackies": ("Track Pants",),
    "jogging bottoms": ("Track Pants",),
    "pants": ("Trousers", "Track Pants", "Jeans"), "slacks": ("Trousers",), "chinos": ("Trousers",),
    "denims": ("Jeans",), "bermudas": ("Shorts",), "half pants": ("Shorts",),
    "coat": ("Jackets", "Blazers"), "bomber": ("Jackets",), "windbreaker": ("Jackets", "Rain Jacket"),
    "parka": ("Jackets",),
    "frock": ("Dresses",), "gown": ("Dresses",), "sundress": ("Dresses",), "maxi dress": ("Dresses",),
    "blouse": ("Tops", "Shirts"), "cami": ("Camisoles", "Tops"), "tank top": ("Tops", "Camisoles", "Innerwear Vests"),
    "baseball cap": ("Caps",), "hat": ("Caps", "Hat"),
    "perfume": ("Perfume and Body Mist",), "fragrance": ("Perfume and Body Mist",), "scent": ("Perfume and Body Mist",),
    "cologne": ("Perfume and Body Mist",), "body spray": ("Deodorant", "Perfume and Body Mist"),
    "deo": ("Deodorant",), "antiperspirant": ("Deodorant",),
    "lip colour": ("Lipstick",), "nail paint": ("Nail Polish",), "nail varnish": ("Nail Polish",),
    "eyeliner": ("Kajal and Eyeliner",), "kohl": ("Kajal and Eyeliner",),
    "pyjamas": ("Night suits", "Lounge Pants", "Nightdress"), "pajamas": ("Night suits", "Lounge Pants", "Nightdress"),
    "pjs": ("Night suits", "Lounge Pants", "Nightdress"), "sleepwear": ("Night suits", "Nightdress"),
    "nightie": ("Nightdress",), "nightgown": ("Nightdress",),
    "studs": ("Earrings",), "hoops": ("Earrings",), "jhumkas": ("Earrings",),
    "necklace": ("Necklace and Chains", "Pendant"), "chain": ("Necklace and Chains",),
    "undershirt": ("Innerwear Vests",), "banian": ("Innerwear Vests",),
    "gym bag": ("Duffel Bag",), "holdall": ("Duffel Bag",), "travel bag": ("Duffel Bag", "Trolley Bag"),
    "shawl": ("Stoles", "Scarves"), "necktie": ("Ties",), "cropped pants": ("Capris",), "three quarter pants": ("Capris",),
}

FIELDS = {"colour": COLOUR, "gender": AUDIENCE, "usage": OCCASION, "article_type": TYPE}

# -- a second list, written after the shipped synonyms were extended and committed (7b9ec89), and never used to
# change them: the probe's `--words fresh` measures what the synonyms' authors did not write for ------------------
FRESH_COLOUR: dict[str, tuple[str, ...]] = {
    "coal": ("Black",), "licorice": ("Black",), "porcelain": ("White", "Off White"), "alabaster": ("White", "Off White"),
    "frost white": ("White",), "midnight navy": ("Navy Blue",), "sapphire blue": ("Blue",), "ocean": ("Blue", "Teal"),
    "sea blue": ("Blue", "Turquoise Blue"), "cerulean": ("Blue",), "robin egg blue": ("Turquoise Blue", "Blue"),
    "brick": ("Red", "Rust"), "rosewood": ("Maroon", "Burgundy", "Brown"), "lipstick red": ("Red",),
    "strawberry": ("Red", "Pink"), "peony": ("Pink",), "powder pink": ("Pink",), "millennial pink": ("Pink", "Peach"),
    "royal purple": ("Purple",), "mulberry": ("Purple", "Burgundy", "Maroon"), "wisteria": ("Lavender", "Purple"),
    "latte": ("Beige", "Brown"), "toffee": ("Brown", "Tan"), "hazelnut": ("Brown", "Tan"),
    "espresso brown": ("Brown", "Coffee Brown"), "olive drab": ("Olive",), "avocado": ("Green", "Olive"),
    "seafoam": ("Sea Green", "Green", "Turquoise Blue"), "teal green": ("Teal", "Green", "Sea Green"),
    "iron grey": ("Grey", "Charcoal"), "pewter": ("Grey", "Silver", "Steel"), "cement grey": ("Grey",),
    "lemon yellow": ("Yellow",), "honey": ("Yellow", "Mustard", "Gold"), "saffron": ("Orange", "Yellow", "Mustard"),
    "marigold": ("Yellow", "Orange", "Mustard"), "peach pink": ("Peach", "Pink"), "antique gold": ("Gold",),
    "copper tone": ("Copper",),
}
FRESH_AUDIENCE: dict[str, tuple[str, ...]] = {
    "mum": ("Women",), "mom": ("Women",), "mother": ("Women",), "sister": ("Women",), "grandma": ("Women",),
    "bride": ("Women",), "dad": ("Men",), "father": ("Men",), "brother": ("Men",), "grandpa": ("Men",),
    "groom": ("Men",), "schoolboy": ("Boys",), "schoolboys": ("Boys",), "schoolgirl": ("Girls",),
    "schoolgirls": ("Girls",), "kiddos": ("Boys", "Girls"), "preteens": ("Boys", "Girls"), "couples": ("Unisex",),
}
FRESH_OCCASION: dict[str, tuple[str, ...]] = {
    "presentation": ("Formal",), "conference": ("Formal",), "commute": ("Casual", "Formal"),
    "running errands": ("Casual",), "lazy sunday": ("Casual",), "shopping trip": ("Casual",), "school": ("Casual",),
    "pilates": ("Sports",), "zumba": ("Sports",), "crossfit": ("Sports",), "squash": ("Sports",),
    "sprinting": ("Sports",), "weightlifting": ("Sports",), "dance class": ("Sports",),
    "karwa chauth": ("Ethnic",), "reception": ("Ethnic", "Party"), "engagement": ("Ethnic", "Party"),
    "temple": ("Ethnic",), "holi": ("Ethnic", "Casual"), "pongal": ("Ethnic",),
    "bachelorette": ("Party",), "birthday party": ("Party",), "disco": ("Party",), "gala": ("Party", "Formal"),
    "road trip": ("Travel", "Casual"), "sightseeing": ("Travel", "Casual"),
}
FRESH_TYPE: dict[str, tuple[str, ...]] = {
    "henley": ("Tshirts",), "v neck tee": ("Tshirts",), "muscle tee": ("Tshirts", "Innerwear Vests"),
    "overshirt": ("Shirts", "Jackets"), "flannel shirt": ("Shirts",), "linen shirt": ("Shirts",),
    "denim shirt": ("Shirts",), "high tops": ("Casual Shoes",), "skate shoes": ("Casual Shoes",),
    "court shoes": ("Heels",), "chelsea boots": ("Casual Shoes", "Formal Shoes", "Booties"),
    "ankle boots": ("Booties", "Casual Shoes"), "slingbacks": ("Heels", "Sandals"), "gladiators": ("Sandals", "Flats"),
    "kolhapuris": ("Sandals", "Flats"), "house slippers": ("Flip Flops",), "fanny pack": ("Waist Pouch",),
    "bum bag": ("Waist Pouch",), "wristlet": ("Clutches", "Wallets"), "coin purse": ("Wallets",),
    "suitcase": ("Trolley Bag",), "sweats": ("Track Pants", "Sweatshirts"), "tube top": ("Tops",),
    "fleece": ("Sweatshirts", "Jackets"), "anorak": ("Jackets", "Rain Jacket"), "trench coat": ("Jackets",),
    "peacoat": ("Jackets",), "loungewear": ("Lounge Pants", "Night suits", "Lounge Shorts"),
    "dressing gown": ("Bath Robe", "Robe"), "onesie": ("Rompers", "Jumpsuit"), "lip balm": ("Lip Care",),
    "lip tint": ("Lipstick", "Lip Gloss"), "moisturizer": ("Face Moisturisers",), "face cream": ("Face Moisturisers",),
    "sunblock": ("Sunscreen",), "face wash": ("Face Wash and Cleanser",), "cleanser": ("Face Wash and Cleanser",),
    "hair dye": ("Hair Colour",), "hair band": ("Headband",), "pantyhose": ("Stockings", "Tights"),
    "thong": ("Briefs",), "boxer shorts": ("Boxers",), "y fronts": ("Briefs",),
}
FRESH = {"colour": FRESH_COLOUR, "gender": FRESH_AUDIENCE, "usage": FRESH_OCCASION, "article_type": FRESH_TYPE}

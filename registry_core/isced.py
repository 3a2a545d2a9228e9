"""The names of ISCED-F 2013 fields of education and training, so that a subject code
(0613) can be shown as what it is (Software and applications development and analysis).

Source: UNESCO Institute for Statistics, "International Standard Classification of
Education: Fields of Education and Training 2013 (ISCED-F 2013)", Montreal 2014, section 5
(the broad, narrow and detailed fields), published for reuse by UNESCO. The codes nest: two
digits are a broad field, three a narrow field within it, four a detailed field within that.
The classification names its residual fields by rule, and so does name() here: a detailed
code ending in 0 is its narrow field "not further defined", one ending in 9 its narrow field
"not elsewhere classified", and narrow or detailed codes ending in 88 are the inter-
disciplinary programmes of their broad field. Records store and publish the codes only.
"""

from __future__ import annotations

BROAD = {
    "00": "Generic programmes and qualifications",
    "01": "Education",
    "02": "Arts and humanities",
    "03": "Social sciences, journalism and information",
    "04": "Business, administration and law",
    "05": "Natural sciences, mathematics and statistics",
    "06": "Information and Communication Technologies (ICTs)",
    "07": "Engineering, manufacturing and construction",
    "08": "Agriculture, forestry, fisheries and veterinary",
    "09": "Health and welfare",
    "10": "Services",
    "99": "Field unknown",
}

NARROW = {
    "001": "Basic programmes and qualifications",
    "002": "Literacy and numeracy",
    "003": "Personal skills and development",
    "011": "Education",
    "021": "Arts",
    "022": "Humanities (except languages)",
    "023": "Languages",
    "031": "Social and behavioural sciences",
    "032": "Journalism and information",
    "041": "Business and administration",
    "042": "Law",
    "051": "Biological and related sciences",
    "052": "Environment",
    "053": "Physical sciences",
    "054": "Mathematics and statistics",
    "061": "Information and Communication Technologies (ICTs)",
    "071": "Engineering and engineering trades",
    "072": "Manufacturing and processing",
    "073": "Architecture and construction",
    "081": "Agriculture",
    "082": "Forestry",
    "083": "Fisheries",
    "084": "Veterinary",
    "091": "Health",
    "092": "Welfare",
    "101": "Personal services",
    "102": "Hygiene and occupational health services",
    "103": "Security services",
    "104": "Transport services",
    "999": "Field unknown",
}

# The detailed fields that are not residual (…0, …9, …88): each its own name.
DETAILED = {
    "0011": "Basic programmes and qualifications",
    "0021": "Literacy and numeracy",
    "0031": "Personal skills and development",
    "0111": "Education science",
    "0112": "Training for pre-school teachers",
    "0113": "Teacher training without subject specialisation",
    "0114": "Teacher training with subject specialisation",
    "0211": "Audio-visual techniques and media production",
    "0212": "Fashion, interior and industrial design",
    "0213": "Fine arts",
    "0214": "Handicrafts",
    "0215": "Music and performing arts",
    "0221": "Religion and theology",
    "0222": "History and archaeology",
    "0223": "Philosophy and ethics",
    "0231": "Language acquisition",
    "0232": "Literature and linguistics",
    "0311": "Economics",
    "0312": "Political sciences and civics",
    "0313": "Psychology",
    "0314": "Sociology and cultural studies",
    "0321": "Journalism and reporting",
    "0322": "Library, information and archival studies",
    "0411": "Accounting and taxation",
    "0412": "Finance, banking and insurance",
    "0413": "Management and administration",
    "0414": "Marketing and advertising",
    "0415": "Secretarial and office work",
    "0416": "Wholesale and retail sales",
    "0417": "Work skills",
    "0421": "Law",
    "0511": "Biology",
    "0512": "Biochemistry",
    "0521": "Environmental sciences",
    "0522": "Natural environments and wildlife",
    "0531": "Chemistry",
    "0532": "Earth sciences",
    "0533": "Physics",
    "0541": "Mathematics",
    "0542": "Statistics",
    "0611": "Computer use",
    "0612": "Database and network design and administration",
    "0613": "Software and applications development and analysis",
    "0711": "Chemical engineering and processes",
    "0712": "Environmental protection technology",
    "0713": "Electricity and energy",
    "0714": "Electronics and automation",
    "0715": "Mechanics and metal trades",
    "0716": "Motor vehicles, ships and aircraft",
    "0721": "Food processing",
    "0722": "Materials (glass, paper, plastic and wood)",
    "0723": "Textiles (clothes, footwear and leather)",
    "0724": "Mining and extraction",
    "0731": "Architecture and town planning",
    "0732": "Building and civil engineering",
    "0811": "Crop and livestock production",
    "0812": "Horticulture",
    "0821": "Forestry",
    "0831": "Fisheries",
    "0841": "Veterinary",
    "0911": "Dental studies",
    "0912": "Medicine",
    "0913": "Nursing and midwifery",
    "0914": "Medical diagnostic and treatment technology",
    "0915": "Therapy and rehabilitation",
    "0916": "Pharmacy",
    "0917": "Traditional and complementary medicine and therapy",
    "0921": "Care of the elderly and of disabled adults",
    "0922": "Child care and youth services",
    "0923": "Social work and counselling",
    "1011": "Domestic services",
    "1012": "Hair and beauty services",
    "1013": "Hotel, restaurants and catering",
    "1014": "Sports",
    "1015": "Travel, tourism and leisure",
    "1021": "Community sanitation",
    "1022": "Occupational health and safety",
    "1031": "Military and defence",
    "1032": "Protection of persons and property",
    "1041": "Transport services",
    "9999": "Field unknown",
}


def _interdisciplinary(broad: str) -> str:
    field = BROAD[broad]
    # "involving education", but "involving Information and Communication Technologies"
    field = field if field.startswith("Information") else field[0].lower() + field[1:]
    return f"Inter-disciplinary programmes and qualifications involving {field}"


def name(code: str) -> str:
    """The field's name, or "" for a code the classification does not have."""
    broad = BROAD.get(code[:2])
    if broad is None:
        return ""
    if len(code) == 2:
        return broad
    if len(code) == 3:
        if code[2] == "8":
            return _interdisciplinary(code[:2])
        if code.endswith("0"):
            return f"{broad} not further defined"
        return NARROW.get(code, "")
    if len(code) != 4:
        return ""
    if code in DETAILED:
        return DETAILED[code]
    if code.endswith("88") and code[2] == "8":
        return _interdisciplinary(code[:2])
    if code.endswith("00"):
        return f"{broad} not further defined"
    narrow = NARROW.get(code[:3])
    if narrow is None:
        return ""
    if code.endswith("0"):
        return f"{narrow} not further defined"
    if code.endswith("9"):
        return f"{narrow} not elsewhere classified"
    return ""


def labelled(code: str) -> str:
    """The code with its name beside it ("0613 – Software and …"), or the code alone."""
    found = name(code)
    return f"{code} – {found}" if found else code

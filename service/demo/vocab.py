"""Hand-curated vocabulary for the synthetic Twente data set.

Everything here is either a fixed enum of DOMAIN.md or an illustrative, made-up distribution (names,
employers, weights). Real reference data (ESCO occupations and skills, GeoNames postcodes) lives in
``service/demo/data/vocab.json``, built from ``/work/shared/data`` by ``service.demo.build_vocab``; the
ESCO occupations in it are the Dutch preferred labels listed in ``OCCUPATIONS`` below.

Weights are relative, not probabilities. They are plausible for a bijstand population in Twente, not
statistics: the data set is for demos and benchmarks, never for conclusions.
"""

from __future__ import annotations

from typing import Final

# fmt: off
# Data tables stay compact, one logical group per line.

# --- enums of DOMAIN.md ---------------------------------------------------------------------------
EDUCATION_LEVELS: Final = ("none", "vmbo", "mbo1", "mbo2", "mbo3", "mbo4", "havo_vwo", "hbo", "wo")
DRIVING_LICENCES: Final = ("AM", "A", "B", "BE", "C1", "C", "CE", "D")
SECTORS: Final = (
    "logistiek", "zorg", "ict", "techniek", "productie", "bouw", "horeca", "detailhandel", "schoonmaak",
    "overig",
)
SUPPORT_LEVELS: Final = ("direct", "with_support", "wage_subsidy")
CANDIDATE_STATUSES: Final = ("active", "placed", "inactive")
VACANCY_STATUSES: Final = ("open", "filled", "closed")
CONTRACTS: Final = ("permanent", "temporary", "flex", "internship", "apprenticeship")
NL_LEVELS: Final = ("1F", "2F", "3F", "4F")
CEFR_LEVELS: Final = ("A1", "A2", "B1", "B2", "C1", "C2")
COUNTRIES: Final = ("NL", "DE")

# --- the 14 Twente municipalities -----------------------------------------------------------------
# code -> (name as GeoNames spells the municipality, relative weight of its bijstand caseload). The weights
# only shape the demo: the three cities carry most of the caseload.
TWENTE_MUNICIPALITIES: Final[dict[str, tuple[str, int]]] = {
    "GM0141": ("Almelo", 40),
    "GM0147": ("Borne", 5),
    "GM1774": ("Dinkelland", 3),
    "GM0153": ("Enschede", 85),
    "GM0158": ("Haaksbergen", 5),
    "GM0163": ("Hellendoorn", 7),
    "GM0164": ("Hengelo", 33),
    "GM1735": ("Hof van Twente", 6),
    "GM0168": ("Losser", 5),
    "GM0173": ("Oldenzaal", 9),
    "GM1742": ("Rijssen-Holten", 5),
    "GM0183": ("Tubbergen", 3),
    "GM1700": ("Twenterand", 7),
    "GM0189": ("Wierden", 4),
}
# Municipalities on the German border: more German speakers, more willingness to work across it (GrensWerk).
BORDER_MUNICIPALITIES: Final = frozenset({"GM0153", "GM0168", "GM1774", "GM0173", "GM0183"})

# German places for cross-border vacancies: (PLZ, place, relative weight); build_vocab checks each pair
# against GeoNames. Near-border towns weigh most; Münster and Emsland (Lingen, Meppen) are the far end of a
# GrensWerk commute.
DE_PLACES: Final[tuple[tuple[str, str, int], ...]] = (
    ("48599", "Gronau (Westfalen)", 8),
    ("48455", "Bad Bentheim", 4),
    ("48465", "Schüttorf", 2),
    ("48527", "Nordhorn", 3), ("48529", "Nordhorn", 3), ("48531", "Nordhorn", 2),
    ("49828", "Neuenhaus", 1),
    ("49824", "Emlichheim", 1),
    ("48683", "Ahaus", 4),
    ("48691", "Vreden", 2),
    ("48703", "Stadtlohn", 1),
    ("48607", "Ochtrup", 2),
    ("48619", "Heek", 1),
    ("48429", "Rheine", 2), ("48431", "Rheine", 2), ("48432", "Rheine", 1),
    ("48488", "Emsbüren", 1),
    ("49808", "Lingen", 1), ("49809", "Lingen", 2), ("49811", "Lingen", 1),
    ("49716", "Meppen", 1),
    ("48143", "Münster", 1), ("48145", "Münster", 1), ("48147", "Münster", 1), ("48153", "Münster", 1),
    ("48155", "Münster", 2), ("48163", "Münster", 1),
)

# --- occupations (ESCO v1.2 preferred Dutch labels) per sector ------------------------------------
# (label, weight): the shortage occupations of the Almelo/Enschede labour-market plans weigh most.
OCCUPATIONS: Final[dict[str, tuple[tuple[str, int], ...]]] = {
    "logistiek": (
        ("magazijnmedewerker", 10), ("orderpicker", 9), ("heftruckchauffeur", 6), ("expeditiemedewerker", 4),
        ("pakhuismedewerker", 3), ("vrachtwagenchauffeur", 5), ("auto- en bestelwagenkoerier", 3),
        ("voorraadadministrateur", 2), ("medewerker grondstoffenontvangst", 1), ("chauffeur/verhuizer", 1),
    ),
    "zorg": (
        ("zorghulp", 6), ("verpleeghulp", 4), ("thuiszorgmedewerker", 8), ("woonbegeleider", 3),
        ("begeleider personen met een beperking", 3), ("algemeen verpleegkundige", 3),
        ("kraamverzorgende", 1), ("medewerker kinderdagverblijf", 2), ("sterilisatieassistent", 1),
    ),
    "ict": (
        ("software ontwikkelaar", 4), ("web developer", 3), ("ict application developer", 2),
        ("medewerker helpdesk", 4), ("ICT-technicus", 3), ("ict systeembeheerder", 3),
        ("ICT-netwerktechnicus", 2), ("software tester", 2), ("data-analist", 2), ("mobile app developer", 1),
    ),
    "techniek": (
        ("monteur elektrische installaties", 4), ("monteur elektrische installaties gebouwen", 2),
        ("verwarmingsmonteur", 3), ("loodgieter", 2), ("lasser", 4), ("operator CNC-machine", 4),
        ("monteur industriële machines", 3), ("mechatronicus", 2), ("monteur zonnepanelen", 2),
        ("bankwerker", 2), ("automonteur", 2), ("elektromechanicus", 2),
    ),
    "productie": (
        ("productiemedewerker", 10), ("inpakker met de hand", 4),
        ("procesoperator verpakkings- en vulmachine", 3), ("assemblagemedewerker metaal", 3),
        ("assemblagemedewerker kunststof", 2), ("bakkerijmedewerker", 2), ("kwaliteitscontroleur", 2),
        ("operator persmachine", 1), ("productiecontroleur", 1),
    ),
    "bouw": (
        ("timmerman", 3), ("metselaar", 2), ("opperman bouw", 3), ("steigerbouwer", 2), ("sloper", 1),
        ("schilder bouw", 2), ("tegelzetter", 1), ("stukadoor", 1), ("dakdekker", 1),
    ),
    "horeca": (
        ("kok", 3), ("medewerker keuken", 4), ("keukenhulp", 3), ("ober/serveerster", 3),
        ("barman/barvrouw", 1), ("barista", 1),
    ),
    "detailhandel": (
        ("winkelmedewerker", 6), ("verkoopmedewerker", 4), ("kassamedewerker", 4), ("schappenvuller", 4),
        ("verkoopspecialist brood en banket", 1),
    ),
    "schoonmaak": (
        ("schoonmaker gebouwen", 6), ("medewerker huishoudelijke dienst", 3), ("interieurverzorger", 3),
        ("schoonmaker treinen", 1), ("gevelreiniger", 1),
    ),
    "overig": (
        ("administratief medewerker", 3), ("callcentermedewerker", 3), ("receptionist", 2), ("beveiliger", 2),
        ("medewerker groenvoorziening/medewerkster groenvoorziening", 3), ("hovenier", 1), ("postbode", 1),
    ),
}

# What job seekers on bijstand look for, and what employers in Twente post (shortage sectors first).
CANDIDATE_SECTOR_WEIGHTS: Final[dict[str, int]] = {
    "logistiek": 22, "zorg": 14, "ict": 5, "techniek": 9, "productie": 16, "bouw": 5, "horeca": 8,
    "detailhandel": 8, "schoonmaak": 8, "overig": 5,
}
VACANCY_SECTOR_WEIGHTS: Final[dict[str, int]] = {
    "logistiek": 24, "zorg": 20, "ict": 8, "techniek": 15, "productie": 12, "bouw": 5, "horeca": 5,
    "detailhandel": 4, "schoonmaak": 5, "overig": 2,
}

# Candidate education level weights, in the order of EDUCATION_LEVELS, per sector.
EDUCATION_WEIGHTS: Final[dict[str, tuple[int, ...]]] = {
    "default": (12, 20, 10, 20, 12, 11, 7, 6, 2),
    "zorg": (4, 12, 6, 22, 22, 20, 6, 6, 2),
    "ict": (2, 4, 2, 6, 12, 30, 12, 24, 8),
    "techniek": (6, 16, 8, 24, 22, 16, 3, 4, 1),
}
# Minimum education a vacancy of the sector asks for (None: no requirement stated), with weights.
EDUCATION_MIN_WEIGHTS: Final[dict[str, tuple[tuple[str | None, int], ...]]] = {
    "default": ((None, 55), ("vmbo", 15), ("mbo1", 10), ("mbo2", 20)),
    "zorg": ((None, 10), ("mbo2", 40), ("mbo3", 35), ("mbo4", 15)),
    "ict": ((None, 15), ("mbo4", 45), ("hbo", 35), ("wo", 5)),
    "techniek": ((None, 25), ("mbo2", 35), ("mbo3", 30), ("mbo4", 10)),
}

# --- language levels ------------------------------------------------------------------------------
# Dutch: mostly 2F/3F; a share of statushouders and newcomers at 1F or A2 (CEFR is accepted for Dutch too).
NL_LEVEL_WEIGHTS: Final = (
    ("1F", 10), ("2F", 33), ("3F", 32), ("4F", 10), ("A1", 1), ("A2", 7), ("B1", 5), ("B2", 2),
)
DE_LEVEL_WEIGHTS: Final = (("A1", 5), ("A2", 25), ("B1", 33), ("B2", 25), ("C1", 9), ("C2", 3))
EN_LEVEL_WEIGHTS: Final = (("A1", 5), ("A2", 22), ("B1", 33), ("B2", 27), ("C1", 12), ("C2", 1))

# --- certificates (normalised labels) -------------------------------------------------------------
# Probability that a candidate of the sector holds each certificate; per-occupation rules add to these.
CERTIFICATES_BY_SECTOR: Final[dict[str, tuple[tuple[str, float], ...]]] = {
    "logistiek": (
        ("VCA-basis", 0.45), ("heftruck", 0.35), ("reachtruck", 0.18), ("BHV", 0.06), ("EHBO", 0.05),
    ),
    "zorg": (("VOG", 0.7), ("BHV", 0.15), ("EHBO", 0.2)),
    "ict": (("ITIL Foundation", 0.08),),
    "techniek": (("VCA-basis", 0.6), ("VCA-VOL", 0.12), ("BHV", 0.06), ("EHBO", 0.05)),
    "productie": (("VCA-basis", 0.3), ("heftruck", 0.12), ("HACCP", 0.08), ("BHV", 0.05)),
    "bouw": (("VCA-basis", 0.7), ("VCA-VOL", 0.15), ("EHBO", 0.05)),
    "horeca": (("HACCP", 0.35), ("SVH Sociale Hygiëne", 0.12), ("BHV", 0.05)),
    "detailhandel": (("BHV", 0.08), ("SVH Sociale Hygiëne", 0.04)),
    "schoonmaak": (("VOG", 0.2), ("VCA-basis", 0.1), ("BHV", 0.04)),
    "overig": (("BHV", 0.08), ("EHBO", 0.08), ("VOG", 0.1)),
}
CERTIFICATES_BY_OCCUPATION: Final[dict[str, tuple[tuple[str, float], ...]]] = {
    "heftruckchauffeur": (("heftruck", 0.95), ("reachtruck", 0.5)),
    "vrachtwagenchauffeur": (("code 95", 0.9), ("ADR", 0.2)),
    "chauffeur/verhuizer": (("code 95", 0.6),),
    "monteur elektrische installaties": (("NEN 3140", 0.5),),
    "monteur elektrische installaties gebouwen": (("NEN 3140", 0.5),),
    "monteur zonnepanelen": (("NEN 3140", 0.4),),
    "beveiliger": (("Beveiliger 2", 0.8), ("VOG", 0.9)),
}
# What a vacancy requires for its occupation or sector: (certificate, probability that it is required).
REQUIRED_CERTIFICATES_BY_OCCUPATION: Final[dict[str, tuple[tuple[str, float], ...]]] = {
    "heftruckchauffeur": (("heftruck", 0.9), ("reachtruck", 0.25), ("VCA-basis", 0.3)),
    "magazijnmedewerker": (("VCA-basis", 0.2), ("heftruck", 0.15)),
    "orderpicker": (("VCA-basis", 0.1),),
    "vrachtwagenchauffeur": (("code 95", 0.9), ("ADR", 0.1)),
    "monteur elektrische installaties": (("NEN 3140", 0.4), ("VCA-basis", 0.6)),
    "monteur elektrische installaties gebouwen": (("NEN 3140", 0.4), ("VCA-basis", 0.5)),
    "beveiliger": (("Beveiliger 2", 0.9), ("VOG", 0.9)),
}
REQUIRED_CERTIFICATES_BY_SECTOR: Final[dict[str, tuple[tuple[str, float], ...]]] = {
    "zorg": (("VOG", 0.75), ("BHV", 0.05)),
    "techniek": (("VCA-basis", 0.45),),
    "bouw": (("VCA-basis", 0.7),),
    "productie": (("VCA-basis", 0.15), ("HACCP", 0.05)),
    "horeca": (("HACCP", 0.25), ("SVH Sociale Hygiëne", 0.05)),
    "schoonmaak": (("VOG", 0.15),),
}
# Occupations that need a lorry licence (candidates hold it, vacancies require it).
LORRY_OCCUPATIONS: Final = frozenset({"vrachtwagenchauffeur", "chauffeur/verhuizer"})
# Occupations where a car licence matters (visits at home, vans, service calls).
CAR_OCCUPATIONS: Final = frozenset({
    "auto- en bestelwagenkoerier", "thuiszorgmedewerker", "kraamverzorgende", "verwarmingsmonteur",
    "monteur elektrische installaties", "monteur zonnepanelen", "loodgieter", "postbode",
    "monteur industriële machines", "hovenier",
})

# --- names ----------------------------------------------------------------------------------------
# Plausible first and family names of people living in Twente today. Drawn independently of every other
# attribute: a name never carries information about language level, support or anything else in the data.
GIVEN_NAMES: Final = (
    "Anne", "Bram", "Daan", "Emma", "Eva", "Fleur", "Gerrit", "Hanneke", "Henk", "Ilse", "Jan", "Jeroen",
    "Joyce", "Kees", "Lieke", "Lotte", "Luuk", "Marieke", "Mark", "Martijn", "Mirjam", "Niels", "Petra",
    "Rik", "Rob", "Ruud", "Sanne", "Sander", "Sophie", "Stijn", "Thijs", "Tim", "Wendy", "Willem", "Yvonne",
    "Bart",
    "Gert-Jan", "Harm", "Jolanda", "Marloes", "Ricardo", "Kevin", "Demi", "Jessica", "Dennis", "Priscilla",
    "Mohamed", "Ahmed", "Fatima", "Yusuf", "Khadija", "Omar", "Amina", "Hamza", "Samira", "Bilal", "Nadia",
    "Mehmet", "Ayşe", "Emre", "Zeynep", "Murat", "Elif", "Hatice", "Burak",
    "Ali", "Hassan", "Rania", "Layla", "Khaled", "Rasha", "Yara", "Mustafa", "Abdullah",
    "Tesfay", "Senait", "Yonas", "Helen", "Filmon", "Semhar", "Dawit",
    "Ahmad", "Farida", "Zahra", "Mohammad", "Shirin", "Reza",
    "Piotr", "Anna", "Katarzyna", "Tomasz", "Agnieszka", "Olena", "Andriy", "Iryna", "Oleksandr",
    "Farah", "Abdi", "Hodan", "Sandra", "Giovanni", "Ana", "João", "Maria", "Stefan", "Nicole",
)
FAMILY_NAMES: Final = (
    "de Vries", "Jansen", "de Jong", "Bakker", "Visser", "Smit", "Meijer", "Mulder", "Bos", "Vos", "Peters",
    "Hendriks", "van Dijk", "van der Meer", "de Boer", "Dekker", "Brouwer", "Kok", "de Graaf", "Koster",
    "Nijhuis", "Kamphuis", "Wolters", "Scholten", "Brinkhuis", "Oude Luttikhuis", "Pierik", "Velthuis",
    "Hofman", "Kuipers", "Mensink", "Leferink", "ter Horst", "Haverkamp", "Olde Hengel", "Wessels",
    "Oosterik", "Koopman", "Boerrigter", "Lansink", "Roelofs", "Reimink", "Tijhuis", "ten Dam", "Veldhuis",
    "Oude Geerdink", "Pot", "Groothuis", "Stokkers", "Nijenhuis", "Oonk", "Rouwhorst", "Slot", "Eshuis",
    "El Amrani", "Bouzid", "El Idrissi", "Benali", "Ouali", "Aziz", "Haddou",
    "Yılmaz", "Kaya", "Demir", "Şahin", "Çelik", "Öztürk", "Aydın", "Doğan",
    "Al-Hassan", "Haddad", "Khalil", "Ibrahim", "Mansour", "Saleh", "Alkhatib", "Darwish",
    "Tesfamariam", "Gebremedhin", "Haile", "Tekle", "Berhane", "Kidane",
    "Ahmadi", "Hosseini", "Karimi", "Rahimi", "Mohammadi",
    "Kowalski", "Nowak", "Wiśniewska", "Lewandowski", "Shevchenko", "Kovalenko", "Bondarenko",
    "Hassan", "Abdullahi", "Warsame", "dos Santos", "Rossi", "da Silva", "Schmidt", "Müller",
)

# --- employers ------------------------------------------------------------------------------------
# Fictional employers for the demo: (name, sector, country, municipality code or PLZ, relative size).
# None of them is a real organisation; any resemblance to a real company name is accidental.
DEMO_EMPLOYERS: Final[tuple[tuple[str, str, str, str, int], ...]] = (
    ("Logistiek XL Almelo B.V.", "logistiek", "NL", "GM0141", 10),
    ("Distributiecentrum Twentekanaal B.V.", "logistiek", "NL", "GM0164", 7),
    ("Transportbedrijf Kanaalhaven Hengelo B.V.", "logistiek", "NL", "GM0164", 4),
    ("Euregio Warehousing Enschede B.V.", "logistiek", "NL", "GM0153", 6),
    ("Oldenzaal Food Logistics B.V.", "logistiek", "NL", "GM0173", 4),
    ("Zorgpartners Twente", "zorg", "NL", "GM0141", 8),
    ("Thuiszorg Noord-Oost Twente", "zorg", "NL", "GM0173", 5),
    ("Woonzorg De Esch", "zorg", "NL", "GM0153", 6),
    ("Zorgcentrum Het Hengelose Veld", "zorg", "NL", "GM0164", 4),
    ("Stichting Begeleid Wonen Twente", "zorg", "NL", "GM0147", 3),
    ("Kennispark Software Studio B.V.", "ict", "NL", "GM0153", 4),
    ("Hengelo Data & Cloud B.V.", "ict", "NL", "GM0164", 3),
    ("Twente ICT Beheer B.V.", "ict", "NL", "GM0141", 2),
    ("Installatietechniek Regge B.V.", "techniek", "NL", "GM0164", 5),
    ("Metaalbewerking Nijverdal B.V.", "techniek", "NL", "GM0163", 4),
    ("Elektrotechniek Rijssen B.V.", "techniek", "NL", "GM1742", 3),
    ("Kunststofproductie Vriezenveen B.V.", "productie", "NL", "GM1700", 4),
    ("Textielfabriek Hof van Twente B.V.", "productie", "NL", "GM1735", 3),
    ("Bakkerij Buurse Haaksbergen B.V.", "productie", "NL", "GM0158", 2),
    ("Bouwbedrijf Dinkelland B.V.", "bouw", "NL", "GM1774", 3),
    ("Schoonmaakdiensten Twente B.V.", "schoonmaak", "NL", "GM0153", 5),
    ("Hotel-Restaurant De Lutte", "horeca", "NL", "GM0168", 2),
    ("Supermarkt Wierden", "detailhandel", "NL", "GM0189", 2),
    ("Bouwmarkt Tubbergen B.V.", "detailhandel", "NL", "GM0183", 1),
    ("Grenzland Logistik GmbH", "logistiek", "DE", "48599", 6),
    ("Emsland Spedition GmbH", "logistiek", "DE", "49809", 3),
    ("Bentheimer Pflegedienst GmbH", "zorg", "DE", "48455", 3),
    ("Klinikverbund Grafschaft Nordhorn", "zorg", "DE", "48527", 3),
    ("Nordhorner Metallbau GmbH", "techniek", "DE", "48529", 3),
    ("Ahauser Lebensmittelwerk GmbH", "productie", "DE", "48683", 3),
    ("Münsterland IT-Service GmbH", "ict", "DE", "48155", 2),
    ("Rheiner Gebäudereinigung GmbH", "schoonmaak", "DE", "48431", 2),
)
# Parts for the extra employers that large seeds need: "<prefix> <word> <place> <legal form>".
EMPLOYER_PREFIXES_NL: Final = (
    "Twentse", "Euregio", "Regge", "Dinkel", "Kanaal", "Noord-Oost", "Zuid-Twentse", "Tukker", "Essen",
    "Lemelerberg", "Sallandse", "Oosterik", "Boekelo", "Vecht", "De Lutte", "Hulsbeek", "Zuidkamp",
    "Westermaat",
)
EMPLOYER_PREFIXES_DE: Final = (
    "Grenzland", "Euregio", "Vechte", "Dinkel", "Ems", "Berkel", "Münsterland", "Grafschafter",
    "Westmünsterland", "Emsland", "Bentheimer", "Niederrhein",
)
# sector: (Dutch words, German words)
EMPLOYER_WORDS: Final[dict[str, tuple[tuple[str, ...], tuple[str, ...]]]] = {
    "logistiek": (("Logistiek", "Transport", "Distributie", "Warehousing"),
                  ("Logistik", "Spedition", "Lagerlogistik")),
    "zorg": (("Zorggroep", "Thuiszorg", "Woonzorg", "Zorgcentrum"),
             ("Pflegedienst", "Seniorenhilfe", "Pflegeheim")),
    "ict": (("Software", "ICT", "Data", "IT Services"), ("IT-Service", "Softwarehaus", "Systemhaus")),
    "techniek": (("Installatietechniek", "Metaal", "Elektrotechniek", "Machinebouw"),
                 ("Metallbau", "Elektrotechnik", "Maschinenbau")),
    "productie": (("Kunststoffen", "Voedingsmiddelen", "Productie", "Verpakkingen"),
                  ("Kunststofftechnik", "Lebensmittel", "Verpackung")),
    "bouw": (("Bouw", "Aannemersbedrijf", "Bouwgroep"), ("Bau", "Bauunternehmen")),
    "horeca": (("Horeca", "Restaurant", "Catering"), ("Gastronomie", "Catering")),
    "detailhandel": (("Supermarkt", "Retail", "Bouwmarkt"), ("Einzelhandel", "Baumarkt")),
    "schoonmaak": (("Schoonmaak", "Facilitair", "Reiniging"), ("Gebäudereinigung", "Facility Service")),
    "overig": (("Diensten", "Beveiliging", "Groenvoorziening"), ("Dienstleistungen", "Sicherheitsdienst")),
}
# fmt: on

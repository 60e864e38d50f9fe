"""The demo ledger's word lists: names, trades, places, legal forms, fictional phone ranges and the
demo staff, by country. Tables of data only; how they are combined is demo/generator."""

from __future__ import annotations

FR_SURNAMES = (
    "Dupont", "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand",
    "Leroy", "Moreau", "Simon", "Laurent", "Lefèvre", "Michel", "Garcia", "David", "Bertrand",
    "Roux", "Vincent", "Fournier", "Morel", "Girard", "André", "Lefebvre", "Mercier", "Blanc",
    "Guérin", "Boyer", "Garnier", "Chevalier", "François", "Legrand", "Gauthier", "Perrin",
    "Robin", "Clément", "Morin", "Nicolas", "Henry", "Roussel", "Mathieu", "Masson", "Marchand",
    "Duval", "Denis", "Dumont", "Lemaire", "Noël", "Meyer", "Dufour", "Meunier", "Brun",
    "Blanchard", "Giraud", "Joly", "Rivière", "Lucas", "Brunet", "Gaillard", "Barbier", "Arnaud",
    "Gérard", "Roche", "Renard", "Schmitt", "Leroux", "Colin", "Vidal", "Caron", "Picard",
    "Roger", "Fabre", "Aubert", "Lemoine", "Renaud", "Dumas", "Lacroix", "Olivier", "Bourgeois",
    "Benoît", "Rey", "Leclerc", "Rolland", "Guillaume", "Lecomte", "Dupuy", "Guillot", "Hubert",
    "Berger", "Carpentier", "Dupuis", "Moulin", "Deschamps", "Huet", "Vasseur", "Boucher",
    "Fleury", "Royer", "Klein", "Jacquet", "Poirier", "Marty", "Aubry", "Guyot", "Carré",
    "Renault", "Charpentier", "Ménard", "Maillard", "Baron", "Bertin", "Bailly", "Hervé",
    "Schneider", "Le Gall", "Collet", "Léger", "Bouvier", "Prévost", "Millet", "Perrot", "Cousin",
    "Germain", "Breton", "Besson", "Langlois", "Rémy", "Le Goff", "Pelletier", "Lévêque",
    "Perrier", "Leblanc", "Barré", "Lebrun", "Marchal", "Weber", "Mallet", "Hamon", "Monnier",
    "Michaud", "Guichard", "Gillet", "Poulain", "Tessier", "Chauvin", "Bouchet", "Lemaître",
    "Maréchal", "Humbert", "Reynaud", "Perret", "Barthélemy", "Cordier", "Pichon", "Lejeune",
    "Gilbert", "Lamy", "Delaunay", "Pasquier", "Carlier", "Laporte",
)  # fmt: skip
FR_FIRST_NAMES = (
    "Marie", "Nathalie", "Isabelle", "Sylvie", "Catherine", "Sophie", "Valérie", "Christine",
    "Céline", "Julie", "Aurélie", "Camille", "Émilie", "Laure", "Élodie", "Anne", "Hélène",
    "Claire", "Chloé", "Manon", "Jean", "Philippe", "Michel", "Alain", "Patrick", "Nicolas",
    "Christophe", "Pierre", "Stéphane", "Laurent", "Frédéric", "Éric", "Sébastien", "Julien",
    "Thomas", "David", "Olivier", "François", "Mathieu", "Antoine", "Hugo", "Lucas", "Maxime",
    "Bruno", "Thierry", "Vincent", "Guillaume", "Romain", "Agnès", "Béatrice",
)  # fmt: skip
FR_TRADES = (
    "Boulangerie", "Pâtisserie", "Boucherie", "Fromagerie", "Garage", "Menuiserie", "Plomberie",
    "Imprimerie", "Pharmacie", "Librairie", "Transports", "Cabinet", "Atelier", "Brasserie",
    "Quincaillerie", "Charpente", "Carrosserie", "Maçonnerie", "Traiteur", "Fleurs", "Optique",
    "Cave", "Hôtel", "Restaurant", "Laboratoire", "Pépinières", "Serrurerie", "Chaudronnerie",
    "Couverture", "Peinture", "Ambulances", "Auto-école", "Agence", "Clinique vétérinaire",
    "Studio", "Électricité", "Chauffage", "Nettoyage", "Déménagements", "Vins",
)  # fmt: skip
FR_INDUSTRIES = (
    "Logistique", "Industrie", "Bâtiment", "Conseil", "Informatique", "Distribution",
    "Emballages", "Énergies", "Mécanique", "Agroalimentaire", "Médical", "Services",
    "Équipements", "Environnement", "Textiles", "Matériaux", "Ingénierie", "Fret", "Signalétique",
    "Automatismes",
)  # fmt: skip
FR_REGIONS = (
    "du Rhône", "de Bretagne", "de l'Ouest", "du Sud-Ouest", "de Normandie", "Atlantique",
    "des Alpes", "de Provence", "d'Alsace", "du Val de Loire", "d'Île-de-France", "du Nord",
    "de Bourgogne", "du Languedoc", "de Savoie", "du Centre", "de Picardie", "des Vosges",
    "de Gascogne", "du Jura",
)  # fmt: skip
FR_LEGAL = ("SARL", "SAS", "SARL", "SAS", "SASU", "EURL", "SARL", "SAS", "SA")  # weighted
FR_HOUSES = ("Groupe", "Établissements", "Maison", "Société")
FR_TOWNS = (
    "Lyon", "Marseille", "Toulouse", "Nice", "Nantes", "Montpellier", "Strasbourg", "Bordeaux",
    "Lille", "Rennes", "Reims", "Toulon", "Grenoble", "Dijon", "Angers", "Nîmes", "Villeurbanne",
    "Clermont-Ferrand", "Le Mans", "Aix-en-Provence", "Brest", "Tours", "Amiens", "Limoges",
    "Annecy", "Perpignan", "Metz", "Besançon", "Orléans", "Rouen", "Mulhouse", "Caen", "Nancy",
    "Argenteuil", "Roubaix", "Tourcoing", "Avignon", "Poitiers", "Pau", "La Rochelle",
    "Saint-Étienne", "Le Havre", "Calais", "Colmar", "Quimper", "Vannes", "Lorient", "Bayonne",
    "Chambéry", "Valence",
)  # fmt: skip
FR_PUBLIC = (
    "Mairie de", "Centre hospitalier de", "Communauté d'agglomération de", "CCAS de",
    "Lycée professionnel de", "Syndicat des eaux de", "Office de tourisme de",
    "Conservatoire de",
)  # fmt: skip

EN_SURNAMES = (
    "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Robinson",
    "Wright", "Thompson", "Evans", "Walker", "White", "Roberts", "Green", "Hall", "Wood",
    "Jackson", "Clarke", "Patel", "Khan", "Lewis", "James", "Phillips", "Mason", "Mitchell",
    "Rose", "Davis", "Rodgers", "Allen", "Hughes", "Moore", "Harris", "Martin", "Cooper",
    "Turner", "Parker", "Morris", "Ward", "Baker", "Harrison", "Morgan", "Kelly", "Bennett",
    "Cook", "Bell", "Murphy", "Bailey", "Collins", "Shaw", "Price", "Fisher", "Butler",
    "Barnes", "Holmes", "Reid", "Fraser", "Campbell", "Stewart", "Murray", "Ahmed", "Singh",
    "Owen", "Griffiths", "Lloyd", "Powell", "Jenkins", "Marshall", "Ellis", "Gray", "Watson",
    "Knight", "Pearson", "Fletcher", "Hunt", "Palmer", "Mills", "Chapman", "Webb", "Lawrence",
    "Hart", "Foster", "Gibson", "Grant", "Russell", "Dixon", "Ryan", "Sutton", "Burton",
)  # fmt: skip
# Second names of partnerships ("Smith & Hart LLP"): short, so partnerships stay a minority.
EN_PARTNERS = ("Hart", "Grant", "Fraser", "Lloyd", "Palmer", "Webb", "Foster", "Reid", "Ellis")
EN_FIRST_NAMES = (
    "Oliver", "George", "Harry", "Jack", "Jacob", "Charlie", "Thomas", "James", "William",
    "Daniel", "David", "Richard", "Paul", "Mark", "Andrew", "Michael", "Peter", "Stephen",
    "Robert", "Chris", "Amelia", "Olivia", "Emily", "Isla", "Ava", "Jessica", "Sophie", "Grace",
    "Lily", "Sarah", "Emma", "Rachel", "Laura", "Hannah", "Rebecca", "Helen", "Claire",
    "Priya", "Aisha", "Fiona",
)  # fmt: skip
UK_PLACES = (
    "Harbour", "Northgate", "Riverside", "Kingsway", "Oakfield", "Meridian", "Pennine", "Thames",
    "Severn", "Cotswold", "Highland", "Summit", "Beacon", "Crown", "Albion", "Westfield",
    "Eastbrook", "Granite", "Anchor", "Ashford", "Bramley", "Carlton", "Redwood", "Whitehall",
    "Marlow", "Fenwick", "Hadley", "Linden", "Orchard", "Sterling", "Trident", "Windsor",
    "Mersey", "Tyne", "Clyde", "Chiltern", "Mendip", "Solent", "Wessex", "Caledonian",
)  # fmt: skip
US_PLACES = (
    "Hudson", "Empire", "Liberty", "Pacific", "Atlantic", "Lakeshore", "Summit", "Keystone",
    "Lone Star", "Bayview", "Midwest", "Redwood", "Evergreen", "Great Lakes", "Blue Ridge",
    "Cascade", "Sierra", "Prairie", "Harbor", "Brooklyn", "Gotham", "Chesapeake", "Allegheny",
    "Mohawk", "Catskill",
)  # fmt: skip
EN_INDUSTRIES = (
    "Logistics", "Engineering", "Construction", "Catering", "Print", "Joinery", "Plumbing",
    "Electrical", "Software", "Consulting", "Packaging", "Foods", "Brewing", "Haulage",
    "Scaffolding", "Roofing", "Design", "Marine", "Dental", "Veterinary", "Recruitment",
    "Textiles", "Metals", "Plastics", "Glazing", "Analytics", "Facilities", "Security",
    "Media", "Interiors",
)  # fmt: skip
UK_LEGAL = ("Ltd", "Limited", "plc", "Ltd", "Ltd")
UK_FAMILY = ("& Sons Ltd", "Brothers Ltd", "& Co", "Group plc")
UK_TOWNS = (
    "Leeds", "Bristol", "Sheffield", "Manchester", "Liverpool", "Nottingham", "Leicester",
    "Coventry", "Bradford", "Cardiff", "Edinburgh", "Glasgow", "Belfast", "Southampton",
    "Portsmouth", "Reading", "Derby", "Plymouth", "Norwich", "York", "Oxford", "Cambridge",
    "Bath", "Exeter", "Brighton", "Newcastle", "Sunderland", "Swansea", "Aberdeen", "Dundee",
    "Wolverhampton", "Stoke", "Hull", "Preston", "Blackpool", "Bolton", "Wigan", "Warrington",
    "Chester", "Lincoln", "Ipswich", "Colchester", "Luton", "Milton Keynes", "Northampton",
    "Peterborough", "Gloucester", "Worcester", "Carlisle", "Inverness",
)  # fmt: skip
UK_PUBLIC = (
    "{0} City Council", "{0} Borough Council", "{0} NHS Foundation Trust", "University of {0}",
    "{0} Academy Trust", "{0} College", "{0} Housing Association",
)  # fmt: skip
US_LEGAL = ("Inc.", "LLC", "Corp.", "Inc.", "LLC")
US_TOWNS = (
    "Albany", "Buffalo", "Rochester", "Yonkers", "Syracuse", "Newark", "Jersey City", "Hartford",
    "Stamford", "Providence", "Boston", "Worcester", "Philadelphia", "Pittsburgh", "Baltimore",
    "Richmond", "Trenton", "Scranton", "Allentown", "Paterson",
)  # fmt: skip
US_PUBLIC = (
    "City of {0}", "{0} Public Schools", "{0} Housing Authority", "{0} Water Department",
    "{0} Community College",
)  # fmt: skip

# Phone prefixes whose remaining digits stay inside ranges reserved for fiction.
FR_PHONE_PREFIXES = ("+3319900", "+3326191", "+3335301", "+3346571", "+3353649")  # + 4 digits
GB_PHONE_PREFIXES = (
    "+442079460", "+441134960", "+441214960", "+441314960", "+441414960", "+441614960",
)  # fmt: skip  # + 3 digits
US_PHONE_PREFIXES = ("+121255501", "+164655501", "+171855501", "+191755501")  # + 2 digits

STAFF = {
    # (credit controllers who own customers, sales reps)
    "FR": (
        ("claire.martin", "julien.bernard", "sophie.lambert", "nicolas.faure"),
        (
            "thomas.girard",
            "camille.roux",
            "antoine.mercier",
            "lea.fontaine",
            "hugo.chevalier",
            "manon.garnier",
        ),
    ),
    "EN": (
        ("emma.clarke", "oliver.hughes", "sarah.patel", "james.wright"),
        (
            "harry.evans",
            "amelia.turner",
            "george.walsh",
            "isla.campbell",
            "jack.morgan",
            "sophie.bennett",
        ),
    ),
}

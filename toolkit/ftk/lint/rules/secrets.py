"""FTK5xx — secrets and personal data. Findings never print a full secret: only its kind, the
first characters and its length."""

import re

from ftk.data.formats import Example
from ftk.lint.registry import Options, Severity, row_rule
from ftk.lint.triggers import DIGITS_TO_0, Trigger

# Token formats documented by their issuers (the same families gitleaks and GitHub secret scanning
# look for). Ordered most specific first: an Anthropic key is also an `sk-` key.
# Real keys are random: an OpenAI key has digits (so `sk-learn-compatible` is not one) and a Slack
# token has numeric ids (so `xoxb-your-bot-token` is not one).
# Every key format below contains one of these: the engine runs the rule only on rows that hold
# one (ftk.lint.triggers), and the rule tests each turn before the nine full patterns.
API_HINTS = ("sk-", "AKIA", "ASIA", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "xox", "AIza", "hf_",
             "k_live_", "eyJ")
API_HINT = re.compile("|".join(map(re.escape, API_HINTS)))
API_KEYS = [
    ("Anthropic API key", re.compile(r"\bsk-ant-[A-Za-z0-9_-]{20,}")),
    ("OpenAI API key", re.compile(r"\bsk-(?:proj-|svcacct-)?(?=[A-Za-z_-]*\d)[A-Za-z0-9_-]{20,}")),
    ("AWS access key id", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("GitHub token", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{22,})\b")),
    ("Slack token", re.compile(r"\bxox[abposr]-\d+-[A-Za-z0-9-]{8,}")),
    ("Google API key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b")),
    ("Hugging Face token", re.compile(r"\bhf_[A-Za-z0-9]{30,}\b")),
    ("Stripe secret key", re.compile(r"\b[rs]k_live_[0-9A-Za-z]{20,}\b")),
    ("JSON Web Token", re.compile(r"\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}")),
]
PRIVATE_KEY = re.compile(r"-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY(?: BLOCK)?-----")
EMAIL = re.compile(r"\b[A-Za-z0-9._%+-]+@(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,}\b")
FILE_EXTENSIONS = {"png", "jpg", "jpeg", "gif", "svg", "webp", "pdf", "js", "css", "py", "json", "txt", "md"}
# Domains reserved for documentation (RFC 2606/6761): addresses there are not anyone's.
RESERVED_DOMAINS = ("example.com", "example.org", "example.net", "example", "test", "invalid", "localhost")
# International (+CC …, groups split by spaces or hyphens: with dots, "+12.50 13.00" is prices) or
# North-American formatted numbers; bare digit runs are left alone, they are far more often
# quantities, ids or years than phone numbers.
PHONE = re.compile(
    r"(?<![\w+])(?:\+\d{1,3}(?:[ -]?\(\d{1,4}\))?(?:[ -]?\d{1,6}){1,6}"
    r"|\(\d{3}\)[ .-]?\d{3}[ .-]\d{4}|\d{3}[.-]\d{3}[.-]\d{4})(?![\w-])"
)
_GROUPS = re.compile(r"[ -]")

# Every phone match starts with "+d", "(ddd)" or "ddd." / "ddd-": a cheap scan before the full one.
PHONE_HINT = re.compile(r"\+\d|\(\d{3}\)|\d{3}[.-]\d")
# The same test for ASCII text without a regex (a regex scan for digits costs ~13 ns a character):
# digits become "0", then the hint is four substring searches.
_PHONE_HINT_ASCII = (b"+0", b"(000)", b"000.0", b"000-0")


def phone_hint(text: str) -> bool:
    if text.isascii():
        b = text.encode("ascii").translate(DIGITS_TO_0)
        return any(h in b for h in _PHONE_HINT_ASCII)
    return PHONE_HINT.search(text) is not None


def redact(secret: str) -> str:
    return f"{secret[:4]}…({len(secret)} chars)"


@row_rule("FTK501", "api-key", Severity.WARNING, "Text contains what looks like an API key or token",
          trigger=Trigger(API_HINTS))
def api_key(ex: Example, opts: Options):
    """
    What it does: flags strings in the formats of well-known credentials: OpenAI and Anthropic
    keys, AWS access key ids, GitHub, Slack, Google, Hugging Face and Stripe tokens, JWTs. The
    finding shows the kind, the first four characters and the length, never the secret. AWS's
    documented example keys (…EXAMPLE) and placeholders without the random part
    (`xoxb-your-bot-token`) are not flagged.
    Why it matters: models memorise and repeat secrets from training data; a published adapter
    can leak them.
    Example: "export OPENAI_API_KEY=sk-proj-…"
    Use instead: replace with a placeholder such as `sk-...` or `<API_KEY>`.
    """
    for t in ex.all_turns():
        if not API_HINT.search(t.content):
            continue
        for kind, pattern in API_KEYS:
            m = pattern.search(t.content)
            if m and not m.group().endswith("EXAMPLE"):  # AWS's documented example keys
                yield t.field, f"{kind} {redact(m.group())}"
                break


@row_rule("FTK502", "private-key", Severity.WARNING, "Text contains a private key block",
          trigger=Trigger(("PRIVATE KEY",)))
def private_key(ex: Example, opts: Options):
    """
    What it does: flags PEM/OpenSSH/PGP private key headers (`-----BEGIN … PRIVATE KEY-----`).
    Why it matters: a private key in training data can be reproduced verbatim by the model.
    Example: a config-file answer that pastes an `id_rsa`.
    Use instead: a truncated, obviously fake key or a placeholder.
    """
    for t in ex.all_turns():
        m = PRIVATE_KEY.search(t.content) if "PRIVATE KEY" in t.content else None
        if m:
            yield t.field, f"private key block {m.group()!r}"


@row_rule("FTK503", "email-address", Severity.WARNING, "Text contains an e-mail address",
          trigger=Trigger(("@",)))
def email_address(ex: Example, opts: Options):
    """
    What it does: flags e-mail addresses, except at documentation domains (example.com, .test …),
    SSH remotes such as `git@github.com:org/repo.git`, and file names such as `logo@2x.png`.
    Why it matters: personal data in training sets is a privacy and compliance risk, and the
    model may hand out real people's addresses.
    Example: "Write to jane.doe@gmail.com for a refund."
    Use instead: anonymise (`user@example.com`).
    """
    for t in ex.all_turns():
        if "@" not in t.content:
            continue
        for m in EMAIL.finditer(t.content):
            user, domain = m.group().rsplit("@", 1)
            domain = domain.lower()
            if user == "git" or domain.rsplit(".", 1)[-1] in FILE_EXTENSIONS:
                continue  # an SSH remote (git@github.com:org/repo) or an image name (logo@2x.png)
            if not any(domain == d or domain.endswith("." + d) for d in RESERVED_DOMAINS):
                yield t.field, f"e-mail address {user[:2]}…@{domain}"
                break


# Non-ASCII rows always run: PHONE's \d also matches other scripts' digits.
@row_rule("FTK504", "phone-number", Severity.WARNING, "Text contains a phone number",
          trigger=Trigger(tuple(h.decode() for h in _PHONE_HINT_ASCII), view="digits", non_ascii=True))
def phone_number(ex: Example, opts: Options):
    """
    What it does: flags phone numbers written in international (+44 20 7946 0958, +33 1 23 45 67
    89, +14155550199, +49 (0)30 123456) or North-American ((555) 123-4567, 555-123-4567) form
    with 8–15 digits; "+12 500 000" (thousands separators) is a number, not a phone.
    Why it matters: personal data; see FTK503.
    Example: "Call me on +1 415 555 0199."
    Use instead: anonymise (`+1 555 0100`, a reserved fictional range) or remove.
    """
    for t in ex.all_turns():
        if not phone_hint(t.content):
            continue
        for m in PHONE.finditer(t.content):
            digits = sum(c.isdigit() for c in m.group())
            groups = _GROUPS.split(m.group())[1:]
            if groups and all(len(g) == 3 and g.isdigit() for g in groups):
                continue  # "+12 500 000": a signed number with thousands separators
            if 8 <= digits <= 15:
                yield t.field, f"phone number {m.group()[:4]}…({digits} digits)"
                break

"""Write the case files that need exact bytes (invalid UTF-8, byte-order marks, blank lines, CRLF).

Run from anywhere: `python tests/cases/make_byte_cases.py`. The output is committed; this script is
only here so the bytes can be reviewed and regenerated (tests/lint/test_rule_cases.py checks that the
committed files still match it). Line numbers in each expect.json refer to
the rows below, in order.
"""

from pathlib import Path

HERE = Path(__file__).resolve().parent
BOM = b"\xef\xbb\xbf"


def chat(user: bytes, assistant: bytes) -> bytes:
    return (b'{"messages": [{"role": "user", "content": "' + user
            + b'"}, {"role": "assistant", "content": "' + assistant + b'"}]}')


FILES: dict[str, bytes] = {}  # path relative to tests/cases -> exact bytes


def write(path: str, lines: list[bytes], end: bytes = b"\n") -> None:
    FILES[path] = b"".join(line + end for line in lines)


# FTK003 invalid-encoding ------------------------------------------------------------------------
write("FTK003/fail.jsonl", [
    chat(b"Order a coffee", b"One cafe, please."),                                  # 1 ok
    chat(b"Order a coffee", b"Un caf\xe9, s'il vous pla\xeet."),                    # 2 Latin-1 e-acute
    chat(b"Order a coffee", "Un café, s'il vous plaît.".encode()),                  # 3 ok: real UTF-8
    chat(b"Quote it", b"He said \x93hello\x94."),                                   # 4 Windows-1252 curly quotes
    chat(b"Price?", b"5 \xe2\x82"),                                                 # 5 truncated euro sign
    chat(b"Slash", b"overlong \xc0\xaf slash"),                                     # 6 overlong encoding of '/'
    chat(b"Smile", b"CESU-8 \xed\xa0\xbd\xed\xb8\x80 surrogates"),                  # 7 UTF-8-encoded surrogates
    chat(b"Smile", "a real emoji 😀 and 𝔘𝔫𝔦𝔠𝔬𝔡𝔢".encode()),                        # 8 ok: 4-byte sequences
    b"\xa0",                                                                         # 9 a lone Latin-1 NBSP: not blank, not UTF-8
    chat(b"Stray", b"continuation \x80 byte"),                                      # 10 lone continuation byte
    chat(b"Escaped", b"caf\\u00e9 written as an escape"),                           # 11 ok: ASCII escape
    chat(b"Bad byte", b"\xff\xfe not UTF-16 here"),                                 # 12 0xFF never occurs in UTF-8
    b'{"messages": [{"role": "user", "content": "Key"}, {"role": "assistant", "content": "ok"}], "m\xe9ta": 1}',  # 13 Latin-1 in a key
    chat(b"Accents", "Ça va très bien, merci — ¿y tú? Größe: 5 µm".encode()),       # 14 ok
])
write("FTK003/pass.jsonl", [
    chat(b"Translate 'water'", "水 (Japanese: mizu), 물 (Korean), ماء (Arabic), पानी (Hindi)".encode()),
    chat(b"Family emoji", "👨‍👩‍👧‍👦 is one grapheme of seven code points".encode()),
    chat(b"Combining marks", "e\u0301 and a\u0308 decomposed, \u00e9 composed".encode()),
    chat(b"Zero-width no-break space", "inside a string: [\ufeff] is valid UTF-8".encode()),
    chat(b"NBSP", "100\u00a0km and 5\u202f%".encode()),
    chat(b"Replacement char", "U+FFFD \ufffd is valid UTF-8 (FTK402, not FTK003)".encode()),
    chat(b"Max code point", "\U0010fffd and \U0001f9ea".encode()),
], end=b"\r\n")

# FTK004 byte-order-mark -------------------------------------------------------------------------
write("FTK004/fail.jsonl", [
    BOM + chat(b"Hello", b"Hi there!"),                                             # 1 BOM at file start
    chat(b"How are you?", b"Fine, thanks."),                                        # 2 ok
    BOM + chat(b"Concatenated", b"with cat"),                                       # 3 mid-file BOM (files joined with cat)
    chat(b"Escaped BOM", b"\\ufeff inside a string is text"),                       # 4 ok
])
FILES["FTK004/fail-array.json"] = (
    BOM + b"[\n  " + chat(b"Hello", b"Hi!") + b",\n  " + chat(b"Bye", b"See you.") + b"\n]\n")
FILES["FTK004/fail-csv.csv"] = (
    BOM + b"prompt,completion\r\nWhat is 2+2?,4\r\n\"Name a colour, please\",Blue\r\n")
write("FTK004/pass.jsonl", [
    chat("\ufeffZero-width no-break space at the start of content".encode(), b"ok"),
    chat(b"Escaped", b"\\ufeff"),
    chat(b"Mid-string", "a\ufeffb".encode()),
])
FILES["FTK004/pass-array.json"] = (
    b"[" + chat(b"Hello", b"Hi!") + b",\n" + chat(b"Bye", "\ufeffSee you.".encode()) + b"]\n")
FILES["FTK004/pass-csv.csv"] = b"prompt,completion\nWhat is 2+2?,4\n"

# FTK005 blank-line ------------------------------------------------------------------------------
write("FTK005/fail.jsonl", [
    chat(b"One", b"1"),                                                             # 1 ok
    b"",                                                                             # 2 empty line
    chat(b"Two", b"2"),                                                             # 3 ok
    b"    ",                                                                         # 4 spaces
    b"\t",                                                                           # 5 tab
    chat(b"Three", b"3") + b"\r",                                                   # 6 ok: CRLF row
    b"\r",                                                                           # 7 blank line of a CRLF file
    chat(b"Four", b"4"),                                                            # 8 ok
    b" \x0c\x0b ",                                                                   # 9 form feed / vertical tab
    chat(b"Blank-looking content", b"\\n\\n   \\n"),                                 # 10 ok: escapes inside a string
    b"",                                                                             # 11 trailing blank line
])
FILES["FTK005/pass.jsonl"] = (
    chat(b"One", b"1") + b"\r\n" + chat(b"Two", b"two\\n\\nlines") + b"\n"
    + b'{"text": "   "}\n' + chat(b"No newline", b"at end of file"))


def main() -> None:
    for rel, data in FILES.items():
        (HERE / rel).write_bytes(data)
        print(f"wrote {rel} ({len(data)} bytes)")


if __name__ == "__main__":
    main()

"""Near-duplicates (FTK203), near-contradictions (FTK204), leakage (FTK205) and the near-dup fix."""

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from ftk.cli import main
from ftk.lint.near_dup import NearDuplicateIndex, clusters, shingles

CASES = Path(__file__).resolve().parent.parent / "cases"
LEAKAGE = Path(__file__).resolve().parent / "leakage"


def lint_json(*args):
    r = CliRunner().invoke(main, ["lint", *map(str, args), "--output-format", "json"])
    return r, json.loads(r.stdout)


def test_shingles_ignore_punctuation_and_short_texts_use_characters():
    assert np.array_equal(shingles("how long does standard delivery take within germany?"),
                          shingles("how long does standard delivery take within germany,"))
    short = shingles("thanks a lot")
    assert short.size == len("thanks a lot") - 4  # character 5-grams


def test_index_verifies_candidates_and_clusters_transitively():
    idx = NearDuplicateIndex(threshold=0.8, num_perm=128, warmup=1)
    base = " ".join(f"word{i}" for i in range(60))
    texts = [base, base + " extra", base + " extra more", " ".join(f"other{i}" for i in range(60))]
    for i, t in enumerate(texts):
        idx.add(i, shingles(t))
    pairs = idx.finish()
    assert {(a, b) for a, b, _ in pairs} >= {(1, 0), (2, 1)}
    assert all(sim >= 0.8 for _, _, sim in pairs)
    assert clusters(pairs) == {0: [0, 1, 2]}


def test_shared_boilerplate_is_discounted():
    preamble = " ".join(f"policy{i}" for i in range(80))  # long text repeated in every row
    idx = NearDuplicateIndex(threshold=0.8, num_perm=128, warmup=50)
    for i in range(60):
        idx.add(i, shingles(f"{preamble} question number {i} about topic{i} and detail{i * 7} please"))
    assert idx.boilerplate.size >= 70
    assert idx.finish() == [], "rows sharing only the preamble must not be near-duplicates"


def test_near_duplicate_fix_keeps_first_of_each_cluster(tmp_path):
    src = CASES / "FTK203" / "fail.jsonl"
    out = tmp_path / "out.jsonl"
    r, report = lint_json(src, "--fix", out, "--fix-near-duplicates", "--ignore", "FTK601")
    kept = out.read_text().splitlines()
    assert len(kept) == 10 - 3 - 1  # three near-duplicates, one exact duplicate
    r2, report2 = lint_json(out, "--ignore", "FTK601")
    assert not {d["code"] for d in report2["diagnostics"]} & {"FTK201", "FTK203"}
    # Without the flag near-duplicates are reported but kept.
    lint_json(src, "--fix", tmp_path / "o2.jsonl", "--ignore", "FTK601")
    assert len((tmp_path / "o2.jsonl").read_text().splitlines()) == 9


def test_fix_near_duplicates_needs_fix():
    r = CliRunner().invoke(main, ["lint", str(CASES / "FTK203" / "fail.jsonl"), "--fix-near-duplicates"])
    assert r.exit_code == 2 and "goes with --fix" in r.output


def test_leakage_reports_eval_rows_with_the_training_line():
    train, ev = LEAKAGE / "train.jsonl", LEAKAGE / "eval.jsonl"
    r, report = lint_json(train, "--against", ev, "--ignore", "FTK601")
    assert r.exit_code == 1  # leakage is an error
    leaks = {d["line"]: d["message"] for d in report["diagnostics"] if d["code"] == "FTK205"}
    assert set(leaks) == {1, 2, 3}
    assert all(d["path"] == str(ev) for d in report["diagnostics"] if d["code"] == "FTK205")
    assert leaks[1] == f"exact duplicate of training row {train}:3"
    assert leaks[2].startswith("near-duplicate (") and leaks[2].endswith(f"of training row {train}:4")
    assert leaks[3] == f"shares a 13-word sequence with training row {train}:5"
    assert report["stats"]["leakage"] == {"eval_rows": 5, "leaked_rows": 3}


def test_stricter_threshold_leaves_the_ngram_test():
    train = LEAKAGE / "train.jsonl"
    r, report = lint_json(train, "--against", train.parent / "eval.jsonl", "--select", "FTK205",
                          "--near-threshold", "0.95")
    leaks = {d["line"]: d["message"] for d in report["diagnostics"]}
    assert set(leaks) == {1, 2, 3}
    # A near-duplicate message at 0.95 must carry a similarity of at least 0.95; otherwise the
    # row is caught by its 13-grams.
    if leaks[2].startswith("near-duplicate"):
        assert float(leaks[2].split("(")[1].split(")")[0]) >= 0.95
    else:
        assert leaks[2].startswith("shares a 13-word sequence")


def test_word_hashes_are_the_words_and_do_not_depend_on_the_batch():
    from ftk.lint.near_dup import text_features, words_of

    texts = ["the cat sat on the mat", "naïve café — déjà vu, ok?", "", "x_1 y2 the cat"]
    words, sets = text_features(texts, [1, 2, 3, 4])
    assert [len(w) for w in words] == [len(words_of(t)) for t in texts]
    assert words[0][1] == words[3][3] and words[0][0] == words[0][4]  # "cat" and "the" hash alike everywhere
    for i, t in enumerate(texts):
        one_words, one_sets = text_features([t], [i + 1])
        assert np.array_equal(one_words[0], words[i]) and np.array_equal(one_sets[0], sets[i])
    assert sets[2].size == 0
    assert np.array_equal(np.unique(sets[0]), sets[0])  # unique and sorted


def test_one_permutation_signatures_estimate_jaccard():
    from ftk.lint.near_dup import Signer, estimate, fmix32

    rng = np.random.RandomState(0)
    signer = Signer(128)
    errors = []
    for j_target in (0.3, 0.5, 0.8, 0.9):
        for size in (20, 300):
            common = fmix32(rng.randint(0, 2**31, size=size).astype(np.uint32))
            n_own = int(round(size * (1 - j_target) / (1 + j_target)))
            a = np.unique(np.concatenate([common, fmix32(rng.randint(0, 2**31, size=n_own).astype(np.uint32))]))
            b = np.unique(np.concatenate([common, fmix32(rng.randint(0, 2**31, size=n_own).astype(np.uint32))]))
            true = np.intersect1d(a, b).size / np.union1d(a, b).size
            sa, sb = signer.signatures([a, b])
            errors.append(abs(float(estimate((sa == sb).mean())) - true))
    assert max(errors) < 0.15 and np.mean(errors) < 0.06
    x = np.unique(fmix32(np.arange(5, dtype=np.uint32)))  # five shingles, 128 bins: densified
    sx, sx2 = signer.signatures([x, x.copy()])
    assert np.array_equal(sx, sx2)
    shuffled = x[::-1].copy()  # order does not matter
    assert np.array_equal(signer.signatures([shuffled])[0], sx)


def test_lsh_params_equal_datasketch_optimiser():
    from datasketch.lsh import _optimal_param

    from ftk.lint.near_dup import KNOWN_LSH_PARAMS, lsh_params, optimal_lsh_params

    for threshold, num_perm in ((0.8, 128), (0.5, 64), (0.9, 128)):
        want = _optimal_param(threshold, num_perm, 0.05, 0.95)
        assert lsh_params(threshold, num_perm) == optimal_lsh_params(threshold, num_perm) == want
    assert lsh_params(0.8, 128) == (16, 8)
    for (threshold, num_perm), known in KNOWN_LSH_PARAMS.items():  # the shortcut is the optimiser's answer
        assert optimal_lsh_params(threshold, num_perm) == known


def test_in_sorted_equals_isin():
    import numpy as np

    from ftk.lint.near_dup import in_sorted

    rng = np.random.default_rng(0)
    for size in (1, 3, 40, 1000):
        members = np.unique(rng.integers(0, 2000, size, dtype=np.uint32))
        values = rng.integers(0, 2100, 5000, dtype=np.uint32)
        assert (in_sorted(values, members) == np.isin(values, members)).all()
        # Across the 32 bits: members' neighbours, values sharing members' top 16 bits, the extremes.
        members = np.unique(np.concatenate((rng.integers(0, 1 << 32, size, dtype=np.uint32), [0, (1 << 32) - 1])))
        values = np.concatenate((members, members + np.uint32(1), members - np.uint32(1), members ^ np.uint32(0xFFFF),
                                 rng.integers(0, 1 << 32, 5000, dtype=np.uint32)))
        got = in_sorted(values, members)
        assert (got == np.isin(values, members)).all() and got.sum() >= len(members)


def contradictions(tmp_path, pairs):
    """FTK204 findings as {line: message} on a file of the given (prompt, answer) rows."""
    path = tmp_path / "rows.jsonl"
    path.write_text("".join(json.dumps({"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": a}]}) + "\n"
                            for q, a in pairs))
    r, report = lint_json(path, "--select", "FTK204")
    return {d["line"]: d["message"] for d in report["diagnostics"] if d["code"] == "FTK204"}


def test_reworded_prompts_with_other_answers_are_contradictions(tmp_path):
    # One word swapped in a long prompt, and a leading clause on a short one: the 3-gram Jaccard
    # (0.65, 0.75) is below the 0.85 that near-identical prompts need, so only the word-by-word
    # comparison finds them.
    found = contradictions(tmp_path, [
        ("Which compost would you recommend for a small vegetable garden with clay soil and little sun?",
         "A mature leaf compost mixed with grit, so that the clay drains better."),
        ("Which compost would you suggest for a small vegetable garden with clay soil and little sun?",
         "Paint the fence first, then oil the hinges of the gate twice a year."),
        ("How long does standard delivery take within Germany?", "Two to four working days."),
        ("Quick question: how long does standard delivery take within Germany?", "Overnight, by express courier."),
    ])
    assert set(found) == {1, 2, 3, 4}
    assert 'differing only in "suggest" for "recommend"' in found[2]
    assert 'differing only in a leading "quick question"' in found[4]


def test_a_changed_name_number_quote_or_short_question_is_another_question(tmp_path):
    found = contradictions(tmp_path, [
        ("How do I reverse a string in Python?", "Use slicing: s[::-1]."),
        ("How do I reverse a string in JavaScript?", "Use s.split('').reverse().join('')."),
        ("Translate 'cat' into French.", "chat"),
        ("Translate 'dog' into French.", "chien"),
        ("I am 34 years old and want to start running three times a week, what is a good plan for the first month?",
         "Start with run-walk intervals of one minute each."),
        ("I am 35 years old and want to start running three times a week, what is a good plan for the first month?",
         "Buy good shoes and join a local club."),
        ("What are the pros and cons of a stable meeting?", "Everyone knows the agenda."),
        ("What are the pros and cons of a stable backpack?", "It does not tip over when you set it down."),
        ("Quickly, how long does standard delivery take within Germany?", "Two to four working days."),
        ("Quickly, how long does standard delivery take within Germany in winter?", "Snow delays parcels by a day."),
    ])
    assert found == {}


def test_rewording_rules():
    from ftk.data.formats import Turn
    from ftk.lint.rewording import PromptWords, rewording

    def change(a, b):
        return rewording(PromptWords([Turn("user", a, "")]), PromptWords([Turn("user", b, "")]))

    long_q = "for a small vegetable garden with clay soil and very little sun in the afternoon?"
    assert change(f"Which compost would you recommend {long_q}", f"Which compost would you suggest {long_q}") == ("recommend", "suggest")
    assert change(f"Why is compost good {long_q}", f"How come compost is good {long_q}") is None  # two places
    assert change(f"Why does compost help {long_q}", f"How come compost helps {long_q}") is None
    assert change(f"Why would compost help {long_q}", f"How come would compost help {long_q}") == ("why", "how come")
    assert change("Why would compost help here?", "How come would compost help here?") is None  # too short
    assert change("Hi! What is compost made of?", "What is compost made of?") == ("hi", "")
    assert change("Hi! What is compost?", "What is compost?") is None  # too short to be sure
    assert change("Please what is compost made of?", "What is compost made of?") is None  # no clause
    assert change("What is compost made of? Thanks!", "What is compost made of?") is None  # not leading
    assert change("Dear Anna, what is compost made of?", "What is compost made of?") is None  # a name
    # A limitation, stated in FTK204's doc: a swapped common noun in a long prompt reads as a rewording.
    assert change(f"Which compost would you buy {long_q}", f"Which mulch would you buy {long_q}") == ("compost", "mulch")


def test_word_counts_rule_out_only_pairs_that_are_no_rewording():
    """FTK204 drops reword candidates by word count and word hashes before re-reading them: every
    pair that `rewording` accepts must pass `could_be_reworded` on the counts map() keeps, and the
    shape test on the hashes must say what it says on the words."""
    import random

    from ftk.data.formats import Example, Format, Turn
    from ftk.lint.features import flat_shingles, part_mask, text_table
    from ftk.lint.rewording import PromptWords, could_be_reworded, could_be_rewording, rewording

    rng = random.Random(3)
    vocab = "what which how the a of garden soil compost sun water plant grow best for my in with and".split()
    leads = ["Hi!", "Quick question:", "Sorry to bother you,", "Hello there, friend:", "One more thing, please:"]
    accepted = rejected = 0
    for _ in range(3000):
        base = [rng.choice(vocab) for _ in range(rng.randint(3, 20))]
        other = list(base)
        kind = rng.random()
        if kind < 0.4:
            other = rng.choice(leads).split() + other
        elif kind < 0.8:
            at = rng.randrange(len(other))
            other[at:at + 1] = [rng.choice(vocab) + "x" for _ in range(rng.randint(1, 4))]
        else:
            other = [rng.choice(vocab) for _ in range(rng.randint(3, 20))]
        turns_a, turns_b = [Turn("user", " ".join(base) + "?", "")], [Turn("user", " ".join(other) + "?", "")]
        ex_a, ex_b = Example(Format.CHAT, turns_a), Example(Format.CHAT, turns_b)
        words_a, words_b = PromptWords(turns_a), PromptWords(turns_b)
        got = flat_shingles(text_table([ex_a, ex_b]), *part_mask([ex_a, ex_b], [turns_a, turns_b]))
        count_a, count_b = got.part_words.tolist()
        hashes_a, hashes_b = np.split(got.part_sequence, [got.part_lengths[0]])
        assert could_be_rewording(hashes_a.tolist(), hashes_b.tolist()) == could_be_rewording(words_a.words, words_b.words)
        # FTK204 keeps 16 bits of each hash, and 2 bits here: collisions may only widen the test.
        for bits in (16, 2):
            short_a, short_b = (hashes_a >> (32 - bits)).tolist(), (hashes_b >> (32 - bits)).tolist()
            if could_be_rewording(words_a.words, words_b.words):
                assert short_a == short_b or could_be_rewording(short_a, short_b), (bits, base, other)
        assert (count_a, count_b) == (len(words_a.words) - 1, len(words_b.words) - 1)
        if rewording(words_a, words_b) is not None:
            accepted += 1
            assert could_be_reworded(count_a, count_b), (base, other)
        elif not could_be_reworded(count_a, count_b):
            rejected += 1
    assert accepted > 300 and rejected > 300  # both sides of the filter were exercised


def test_prompt_word_counts_only_where_exact():
    from ftk.data.formats import Example, Format, Turn
    from ftk.lint.features import flat_shingles, part_mask, role_salt, text_table

    def shingled(turns, part):
        examples = [Example(Format.CHAT, turns)]
        return flat_shingles(text_table(examples), *part_mask(examples, [part]))

    def count(*texts, part=slice(None)):
        turns = [Turn("user" if i % 2 == 0 else "assistant", t, "") for i, t in enumerate(texts)]
        return shingled(turns, turns[part]).part_words.tolist()[0]

    assert count("Hello,   world: it's 2 PM!") == 6  # hello world it s 2 pm
    assert count("Hello world", "a b c", "d e") == 7
    assert count("Hello world", "a b c", "d e", part=slice(1, 2)) == 3  # the part's turns only
    assert count("Hello world", "Café au lait", part=slice(0, 1)) == 2  # an uncounted turn outside the part
    turns = [Turn("user", "Hello world", ""), Turn("assistant", "a b c", ""), Turn("user", "Thanks", "")]
    got = shingled(turns, turns)
    salts = [role_salt("user"), role_salt("assistant"), role_salt("user")]
    assert got.part_lengths.tolist() == [3 + 4 + 2]  # each turn's role salt, then its words
    assert got.part_sequence[[0, 3, 7]].tolist() == salts
    assert count("ab\x01cd") == -1  # normalising drops the control character and joins the words
    assert count("Café au lait") == -1  # not ASCII: normalising may move word boundaries


@pytest.mark.parametrize("width", [3, 48])
def test_may_reword_for_all_pairs_at_once_equals_the_pair_by_pair_test(monkeypatch, width):
    """may_reword tests many pairs at once on the first and last `width` word hashes; pairs whose
    common ends fill the width go word by word. Either way its answer must be the scalar test's."""
    from ftk.lint.near_dup import Ragged
    from ftk.lint.rewording import could_be_reworded, could_be_rewording
    from ftk.lint.rules import near_duplicates as nd

    monkeypatch.setattr(nd, "REWORD_WIDTH", width)
    rng = np.random.default_rng(5)
    seqs = []
    for _ in range(150):  # prompts, then edits of them: a swapped word, a leading clause, a copy,
        base = rng.integers(0, 6, size=int(rng.integers(1, 70))).tolist()  # an insertion, the last
        seqs.append(base)  # word repeated (common ends that overlap)
        swapped = list(base)
        swapped[int(rng.integers(0, len(base)))] = 99
        seqs += [swapped, [7, 8] + base, list(base), base[: len(base) // 2] + [9, 9] + base[len(base) // 2:],
                 base + base[-1:]]
    counts = np.array([len(x) - 1 if i % 17 else nd.UNCOUNTED for i, x in enumerate(seqs)], dtype=np.uint16)
    ragged = Ragged(np.uint16)
    for start in range(0, len(seqs), 64):  # several chunks, as map() adds them
        part = seqs[start:start + 64]
        ragged.extend(np.array([v for x in part for v in x], dtype=np.uint16), np.array([len(x) for x in part]))
    a = rng.integers(0, len(seqs), size=3000)
    b = np.where(rng.random(3000) < 0.7, (a // 6) * 6 + rng.integers(0, 6, size=3000), rng.integers(0, len(seqs), size=3000))
    b = np.minimum(b, len(seqs) - 1)
    got = nd.may_reword(a, b, counts, ragged)

    def one(i, j):
        if nd.UNCOUNTED in (counts[i], counts[j]):
            return True
        if not could_be_reworded(int(counts[i]), int(counts[j])):
            return False
        return seqs[i] == seqs[j] or could_be_rewording(seqs[i], seqs[j])

    want = np.array([one(int(i), int(j)) for i, j in zip(a, b)])
    assert 200 < want.sum() < len(want) - 200  # both answers are common
    assert got.tolist() == want.tolist()


def test_ascii_normalisation_equals_the_definition():
    """normalise_for_match's ASCII path (one translate, then space runs collapsed) must give what
    the definition gives: control characters out, whitespace runs to one space, case folded."""
    import random

    from ftk.lint.features import _DROP_CONTROL, _normalise, ascii_has_control, normalise_for_match

    rng = random.Random(3)
    alphabet = "aZq. \t\n\r\x0b\x0c\x1c\x1f\x00\x07\x7f  é"
    for _ in range(20000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 14)))
        assert normalise_for_match(text) == " ".join(text.translate(_DROP_CONTROL).split()).casefold(), repr(text)
        assert _normalise(text)[1] == (text.isascii() and not ascii_has_control(text)), repr(text)
    assert normalise_for_match("  Tab\there,\r\n\x00NUL  \x1fand   runs ") == "tab here, nul and runs"


@pytest.mark.parametrize("num_perm", [8, 128, 1024])
def test_estimates_count_agreeing_bins_exactly(num_perm):
    """estimates() counts agreeing bins eight at a time, a byte of a uint64 each: the count must be
    exact for any bytes (all 256 values, rows that differ in one bin), identical rows included."""
    from ftk.lint.near_dup import estimate, estimates

    rng = np.random.default_rng(num_perm)
    sigs = rng.integers(0, 3, size=(300, num_perm), dtype=np.uint8)
    sigs[150:] = rng.integers(0, 256, size=(150, num_perm), dtype=np.uint8)
    sigs[7] = sigs[3]
    sigs[9] = sigs[3]
    sigs[9, num_perm // 2] ^= 0x80  # one bin differs in its top bit only
    a, b = rng.integers(0, 300, size=2000), rng.integers(0, 300, size=2000)
    a[:2], b[:2] = (7, 9), (3, 3)
    want = estimate(np.count_nonzero(sigs[a] == sigs[b], axis=1) / num_perm)
    got = estimates(sigs, a, b)
    assert got[0] == 1.0 and got[1] < 1.0 and np.array_equal(got, want)


def test_index_finds_the_same_pairs_on_any_number_of_threads():
    """NearDuplicateIndex.finish searches its bands on threads: the pairs must not depend on how many."""
    from ftk.lint.near_dup import NearDuplicateIndex

    rng = np.random.default_rng(5)
    base = rng.integers(0, 1 << 32, size=(40, 60), dtype=np.uint32)
    sets = []
    for i in range(400):  # ten near-copies of each of 40 sets: a few shingles swapped each
        s = base[i % 40].copy()
        s[rng.integers(0, 60, size=i % 5)] = rng.integers(0, 1 << 32, size=i % 5, dtype=np.uint32)
        sets.append(s)
    found = []
    for threads in (1, 2, 3):
        index = NearDuplicateIndex(threshold=0.7, num_perm=128, min_rows_for_boilerplate=10_000)
        for i, s in enumerate(sets):
            index.add(i, s)
        found.append(index.finish(margin=0.1, threads=threads))
    assert len(found[0]) > 400 and found[0] == found[1] == found[2]
    assert all(a % 40 == b % 40 for a, b, _ in found[0])


def test_index_pairs_equal_the_plain_definition():
    """finish()'s candidates, found by sorting each band and one compiled pass: in each band, rows
    with equal keys form a run in row order; each row is paired with the one before it and with the
    first of its run; pairs whose estimate reaches threshold - margin are kept, each once."""
    from ftk.lint.near_dup import NearDuplicateIndex, band_keys, estimate

    rng = np.random.default_rng(11)
    base = rng.integers(0, 1 << 32, size=(30, 40), dtype=np.uint32)
    index = NearDuplicateIndex(threshold=0.7, num_perm=128, min_rows_for_boilerplate=10_000)
    for i in range(600):  # twenty near-copies of each of 30 sets, 0-9 shingles swapped
        s = base[i % 30].copy()
        s[rng.integers(0, 40, size=i % 10)] = rng.integers(0, 1 << 32, size=i % 10, dtype=np.uint32)
        index.add(i, s)
    got = index.finish(margin=0.2)
    ids, sigs = index.ids[0], index.sigs[0]
    keys = band_keys(sigs, index.bands, index.band_rows)
    want = set()
    for band in range(index.bands):
        runs: dict[int, list[int]] = {}
        for row in range(len(ids)):
            runs.setdefault(int(keys[row, band]), []).append(row)
        for run in runs.values():
            for k in range(1, len(run)):
                for other in {run[k - 1], run[0]}:
                    sim = float(estimate(np.count_nonzero(sigs[run[k]] == sigs[other]) / sigs.shape[1]))
                    if sim >= 0.5:
                        want.add((int(ids[run[k]]), int(ids[other]), sim))
    assert len(want) > 600 and sorted(got) == sorted(want)
    assert len(got) == len({(a, b) for a, b, _ in got})


def test_reread_rows_are_shingled_as_their_definition():
    """The final phase re-reads candidate rows and hashes them a batch at a time through a TextTable:
    each row's shingles (boilerplate out) and each response's must be shingles_of its turns."""
    import random

    from ftk.data.formats import Format, normalise
    from ftk.lint.features import shingles_of, whole
    from ftk.lint.registry import Options, select_codes
    from ftk.lint.rules.near_duplicates import NearDuplicates

    rng = random.Random(3)
    words = ["the", "cat", "Sat", "on", "mat", "Café", "naïve", "über", "x", "42", "«quoted»", "日本語", "\u00a0"]
    system = {"role": "system", "content": "You are a helpful assistant who answers briefly and politely."}

    def row():
        n = rng.randint(1, 3)
        turns = [{"role": r, "content": " ".join(rng.choice(words) for _ in range(rng.randint(0, 12)))}
                 for r in ["user", "assistant"] * n][:rng.randint(1, 2 * n)]
        return {"messages": ([system] if rng.random() < 0.8 else []) + turns}

    rows = [row() for _ in range(300)]
    rule = NearDuplicates(Options(), select_codes(None, None))
    rule.prepare([(None, normalise(r, Format.CHAT)[0]) for r in rows])
    assert rule.rows.boilerplate.size  # the system prompt
    for prompt in (False, True):
        out: dict = {}
        rule.shingle_batch([(i, normalise(r, Format.CHAT)[0]) for i, r in enumerate(rows)], prompt, out)
        for i, r in enumerate(rows):
            ex = normalise(r, Format.CHAT)[0]
            if not prompt:
                assert np.array_equal(out[i], rule.rows.without_boilerplate(shingles_of(ex, whole(ex))))
            elif (asked := rule.asked(ex)) is None:
                assert i not in out
            else:
                response = ex.prompt_and_response()[1]
                assert np.array_equal(out[i][0], shingles_of(ex, [response]))
                assert [t.content for t in out[i][1]] == [t.content for t in asked]
    assert sum(1 for r in rows if rule.asked(normalise(r, Format.CHAT)[0]) is not None) > 100
    for prompt in (False, True):  # the last batch of a share can be empty
        out = {}
        rule.shingle_batch([], prompt, out)
        assert out == {}


def test_ragged_jaccards_equal_the_pairwise_jaccard():
    """FTK204's prompt sets are compared all at once (Ragged.jaccards): the same floats as jaccard()
    pair by pair, empty sets and rows in different chunks included."""
    from ftk.lint.near_dup import Ragged
    from ftk.lint.rules.near_duplicates import jaccard

    rng = np.random.default_rng(8)
    sets = [np.unique(rng.integers(0, 60, size=rng.integers(0, 25), dtype=np.uint32)) for _ in range(300)]
    ragged = Ragged(np.uint32)
    for start in range(0, 300, 70):  # chunks of 70 rows, as map() hands them over
        part = sets[start:start + 70]
        ragged.extend(np.concatenate(part), np.array([len(s) for s in part]))
    a, b = rng.integers(0, 300, size=3000), rng.integers(0, 300, size=3000)
    empty = [i for i, s in enumerate(sets) if not s.size]
    a[:2], b[:2] = empty[:2], [empty[1], empty[1]]  # empty against empty: 1.0; against another: 0.0
    assert ragged.jaccards(a, b).tolist() == [jaccard(sets[i], sets[j]) for i, j in zip(a.tolist(), b.tolist())]
    assert ragged.jaccards(a[:0], b[:0]).size == 0

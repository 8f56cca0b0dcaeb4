"""bot/numbers: separators, E.164, duplicates, invalid lines, CSV layouts, bad files, pool."""

from __future__ import annotations

import codecs
import csv
import json
import random
from pathlib import Path

import pytest

import bot.numbers as numbers
from bot.numbers import BadInput, detect_layout, normalize_number, split_pasted


def body_numbers(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["numbers"]


# ------------------------------------------------------------------ pasted text


def test_split_pasted_accepts_newlines_commas_and_semicolons() -> None:
    rows = split_pasted("601 123 456\n+420 602 000 111, 603000111;604000111\n\n ; ,\n605000111")
    assert [(line, raw) for line, raw, _ in rows] == [
        (1, "601 123 456"),
        (2, "+420 602 000 111"),
        (2, "603000111"),
        (2, "604000111"),
        (5, "605000111"),
    ]


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("601 123 456", "CZ", "+420601123456"),
        ("+420 601-123-456", "CZ", "+420601123456"),
        ("00420 601 123 456", "CZ", "+420601123456"),
        ("020 7946 0958", "GB", "+442079460958"),
        ("07400 123456", "GB", "+447400123456"),
        ("+44 20 7946 0958", None, "+442079460958"),
        ("+1 212 555 0142", "CZ", "+12125550142"),
    ],
)
def test_normalizes_to_e164(raw: str, region: str | None, expected: str) -> None:
    assert normalize_number(raw, region) == (expected, None)


@pytest.mark.parametrize(
    ("raw", "region", "reason"),
    [
        ("601 123 456", None, numbers.NO_REGION_REASON),
        ("12", "CZ", "too short"),
        ("hello", "CZ", "not a phone number"),
        ("020 7946 0958", "CZ", "not a valid CZ number"),
        ("+999 123 456 789", None, "unknown country code"),
    ],
)
def test_invalid_numbers_carry_a_reason(raw: str, region: str | None, reason: str) -> None:
    assert normalize_number(raw, region) == (None, reason)


async def test_pasted_duplicates_after_normalization_and_invalid_lines(tmp_path: Path) -> None:
    text = "+420 601 123 456\n601123456\nnot-a-number\n602 000 111; 12\n+420602000111"
    prepared = await numbers.prepare_pasted(text, name="T", region="CZ", directory=tmp_path)
    assert prepared.counts == numbers.Counts(read=6, valid=2, duplicates=2, invalid=2)
    assert [(e.line, e.raw) for e in prepared.invalid] == [(3, "not-a-number"), (4, "12")]
    assert [n["number"] for n in body_numbers(prepared.body_path)] == [
        "+420601123456",
        "+420602000111",
    ]
    doc = json.loads(prepared.body_path.read_text())
    assert doc["name"] == "T" and doc["numbers"][0]["attributes"] == []


# ------------------------------------------------------------------ CSV layouts


def test_layout_by_header_name_with_attributes() -> None:
    layout = detect_layout("Name;MSISDN;City\nJan;601123456;Praha\n")
    assert layout.delimiter == ";" and layout.has_header
    assert layout.number_col == 1 and layout.attr_names == ("Name", "City")


def test_layout_by_numeric_column_under_other_header() -> None:
    layout = detect_layout("name,mobile\nJan,601 123 456\nEva,602 123 456\n")
    assert layout.has_header and layout.number_col == 1 and layout.attr_names == ("name",)


def test_layout_without_header() -> None:
    layout = detect_layout("601 123 456,Jan\n602 123 456,Eva\n")
    assert not layout.has_header and layout.number_col == 0
    assert layout.attr_names == ("column 2",)


def test_no_number_column_is_one_clear_error() -> None:
    with pytest.raises(BadInput, match="No column of phone numbers"):
        detect_layout("name,city\nJan,Praha\nEva,Brno\n")


async def test_csv_with_header_attributes_and_line_numbers(tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    src.write_text(
        '\ufeffname,phone,note\n"Novák, Jan",601 123 456,"two\nlines"\n'
        "Eva,+420601123456,dup\n\nBad,12345,x\nGB,+44 20 7946 0958,\n",
        encoding="utf-8",
    )
    prepared = await numbers.prepare_file(src, name="L", region="CZ", directory=tmp_path)
    assert prepared.counts == numbers.Counts(read=4, valid=2, duplicates=1, invalid=1)
    assert [(e.line, e.raw) for e in prepared.invalid] == [(6, "12345")]
    items = body_numbers(prepared.body_path)
    assert items[0] == {
        "number": "+420601123456",
        "attributes": [
            {"name": "name", "value": "Novák, Jan"},
            {"name": "note", "value": "two\nlines"},
        ],
    }
    assert items[1]["number"] == "+442079460958"


# ------------------------------------------------------------------ bad files


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"\n\n  \n", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
        (b"PK\x03\x04\x14\x00\x06\x00", "Excel"),
        (b"6\x000\x001\x00\n\x00", "UTF-16 text without a byte-order mark.*CSV UTF-8"),
        (b"caf\xe9,601123456\n", "not UTF-8.*CSV UTF-8"),
        (b"name,city\nJan,Praha\n", "No column of phone numbers"),
        (b"phone\n", "no numbers below its header"),
    ],
)
async def test_bad_files_give_one_clear_message(
    tmp_path: Path, content: bytes, message: str
) -> None:
    src = tmp_path / "bad.csv"
    src.write_bytes(content)
    with pytest.raises(BadInput, match=message):
        await numbers.prepare_file(src, name="B", region="CZ", directory=tmp_path)
    leftovers = [p.name for p in tmp_path.iterdir() if p.suffix == ".json"]  # noqa: ASYNC240
    assert leftovers == [], "no half-written body is left behind"


async def test_invalid_utf8_later_in_the_file_names_the_line(tmp_path: Path) -> None:
    src = tmp_path / "late.csv"
    # Past the first 64 KB, which are checked up front: the worker finds it and says where.
    src.write_bytes(b"phone\n" + b"601123456\n" * 7000 + b"\xff\xfe\n")
    with pytest.raises(BadInput, match="Line 7002 is not UTF-8"):
        await numbers.prepare_file(src, name="B", region="CZ", directory=tmp_path)


# ------------------------------------------------------------------ Excel's "Unicode text"

UTF16 = [(codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")]
ROWS = [
    ["Name", "Phone", "City"],
    ["Novák, Jan", "601 123 456", "Plzeň"],
    ["Eva", "+420602000111", "Brno"],
    ["Bad", "12345", "x"],
]


def unicode_text(rows: list[list[str]], bom: bytes, codec: str) -> bytes:
    """What Excel's "Unicode text" writes: UTF-16 with a BOM, tab-separated, CRLF lines."""
    return bom + "".join("\t".join(r) + "\r\n" for r in rows).encode(codec)


@pytest.mark.parametrize(("bom", "codec"), UTF16)
async def test_excel_unicode_text_reads_like_csv_utf8(
    tmp_path: Path, bom: bytes, codec: str
) -> None:
    comma = tmp_path / "comma.csv"
    with comma.open("w", encoding="utf-8-sig", newline="") as f:
        csv.writer(f).writerows(ROWS)
    tab = tmp_path / "unicode.txt"
    tab.write_bytes(unicode_text(ROWS, bom, codec))
    as_csv = await numbers.prepare_file(comma, name="L", region="CZ", directory=tmp_path)
    as_text = await numbers.prepare_file(tab, name="L", region="CZ", directory=tmp_path)
    assert as_text.counts == as_csv.counts == numbers.Counts(read=3, valid=2, invalid=1)
    assert as_text.invalid == as_csv.invalid == [numbers.Invalid(4, "12345", "too short")]
    assert as_text.attr_names == as_csv.attr_names == ("Name", "City")
    assert body_numbers(as_text.body_path) == body_numbers(as_csv.body_path)
    assert body_numbers(as_text.body_path)[0]["attributes"][1]["value"] == "Plzeň"
    # The upload form's check reads the same layout, the delimiter aside.
    layout, _ = numbers.read_layout(tab)
    assert layout.delimiter == "\t" and layout.number_col == 1 and layout.has_header
    assert tab.read_bytes() == unicode_text(ROWS, bom, codec), "the upload is left as it was"
    stems = (as_csv.body_path.stem, as_text.body_path.stem)
    made = {p.name for p in tmp_path.iterdir()} - {"comma.csv", "unicode.txt"}  # noqa: ASYNC240
    assert all(n.startswith(stems) for n in made), "only the bodies and their invalid files"


@pytest.mark.parametrize(("bom", "codec"), UTF16)
async def test_long_unicode_text_keeps_its_line_numbers(
    tmp_path: Path, bom: bytes, codec: str
) -> None:
    src = tmp_path / "long.txt"
    rows = [["phone", "n"]] + [[f"60{i % 8 + 1}{i:06d}", str(i)] for i in range(20_000)]
    src.write_bytes(unicode_text([*rows, ["12", "bad"]], bom, codec))
    assert src.stat().st_size > 2 * numbers.model.SNIFF_BYTES
    prepared = await numbers.prepare_file(
        src, name="L", region="CZ", directory=tmp_path, block_bytes=16 * 1024
    )
    assert prepared.counts == numbers.Counts(read=20_001, valid=20_000, invalid=1)
    assert [(e.line, e.raw) for e in prepared.invalid] == [(20_002, "12")]


async def test_broken_unicode_text_later_in_the_file_names_the_line(tmp_path: Path) -> None:
    src = tmp_path / "late.txt"
    good = "phone\r\n" + "601123456\r\n" * 7000
    # A lone low surrogate past the first 64 KB (the start is checked up front).
    src.write_bytes(codecs.BOM_UTF16_LE + good.encode("utf-16-le") + b"\x00\xdc\r\x00\n\x00")
    with pytest.raises(BadInput, match="Line 7002 is not UTF-16 text.*CSV UTF-8"):
        await numbers.prepare_file(src, name="B", region="CZ", directory=tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["late.txt"], "no copy is left behind"  # noqa: ASYNC240


def test_size_limit() -> None:
    numbers.check_size(50 * 1024 * 1024, 50 * 1024 * 1024)
    with pytest.raises(BadInput, match=r"50\.0 MB.*limit is 1\.0 MB"):
        numbers.check_size(50 * 1024 * 1024, 1024 * 1024)


def test_blocks_never_cut_inside_a_quoted_field(tmp_path: Path) -> None:
    src = tmp_path / "q.csv"
    rows = [f'60{i % 9 + 1}00{i:04d},"a\nb"\n' for i in range(300)]
    src.write_text("".join(rows))
    blocks = list(numbers.iter_blocks(src, 0, block_bytes=64))
    assert b"".join(blocks) == src.read_bytes()
    assert all(b.count(b'"') % 2 == 0 and b.endswith(b"\n") for b in blocks)
    assert len(blocks) > 10


def test_resolve_body_refuses_forged_names(tmp_path: Path) -> None:
    good = numbers.new_body_path(tmp_path)
    good.write_text("{}")
    assert numbers.resolve_body(tmp_path, good.name) == good.resolve()
    for forged in ("../bot.db", "/etc/passwd", good.name + "/..", 42, None, "a" * 32 + ".json"):
        assert numbers.resolve_body(tmp_path, forged) is None


async def test_too_many_numbers_is_refused(tmp_path: Path) -> None:
    src = tmp_path / "many.csv"
    src.write_text("".join(f"60{i % 8 + 1}{i:06d}\n" for i in range(50)))
    with pytest.raises(BadInput, match="at most 10 per call list"):
        await numbers.prepare_file(src, name="M", region="CZ", directory=tmp_path, max_numbers=10)


# ------------------------------------------------------------------ the process pool


@pytest.mark.slow
async def test_200k_numbers_through_the_process_pool(tmp_path: Path) -> None:
    rnd = random.Random(7)
    src = tmp_path / "big.csv"
    expected: set[str] = set()
    lines = ["phone,customer"]
    for i in range(200_000):
        if i % 1000 == 999:
            lines.append(f"bogus-{i},c{i}")
            continue
        national = f"60{rnd.randrange(1, 9)}{rnd.randrange(10**6):06d}"
        expected.add("+420" + national)
        lines.append(f"{national},c{i}")
    src.write_text("\n".join(lines) + "\n")
    seen: list[tuple[int, float | None]] = []

    async def progress(checked: int, fraction: float | None) -> None:
        seen.append((checked, fraction))

    prepared = await numbers.prepare_file(
        src,
        name="Big",
        region="CZ",
        directory=tmp_path,
        progress=progress,
        progress_every_s=0.0,
        block_bytes=256 * 1024,
    )
    counts = prepared.counts
    assert counts.read == 200_000 and counts.invalid == 200
    assert counts.valid == len(expected)
    assert counts.duplicates == 200_000 - 200 - len(expected)
    assert prepared.invalid[0].line == 1001 and prepared.invalid[0].raw == "bogus-999"
    items = body_numbers(prepared.body_path)
    assert {n["number"] for n in items} == expected and len(items) == len(expected)
    assert len(seen) > 3 and seen[-1][1] == pytest.approx(1.0)
    assert [c for c, _ in seen] == sorted(c for c, _ in seen)


# ------------------------------------------------------------------ the invalid-entries file


def read_invalid_file(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.reader(f))


async def test_every_invalid_entry_goes_to_the_csv_file(tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    bad = [f"bogus-{i}" for i in range(3000)]
    lines = ["phone,who"] + [f"{b},x" if i % 2 else f"601{i:06d},y" for i, b in enumerate(bad)]
    lines += ['"=HYPERLINK(""http://x"")",z', "+420 12,z", '"a, ""quoted""\nentry",z']
    src.write_text("\n".join(lines) + "\n")
    prepared = await numbers.prepare_file(
        src, name="T", region="CZ", directory=tmp_path, block_bytes=4096
    )
    assert prepared.counts.invalid == 1503
    assert len(prepared.invalid) == numbers.INVALID_SHOWN  # only the summary's share in memory
    assert prepared.invalid_file is not None and not prepared.invalid_file.cut
    assert prepared.invalid_file.rows == 1503
    assert prepared.invalid_file.path.name.endswith(".invalid.csv")
    assert prepared.invalid_file.path.read_bytes().startswith(b"\xef\xbb\xbfline,entry,reason\r\n")
    rows = read_invalid_file(prepared.invalid_file.path)
    assert rows[0] == ["line", "entry", "reason"] and len(rows) == 1504
    assert rows[1] == ["3", "bogus-1", "not a phone number"]
    assert rows[1500] == ["3001", "bogus-2999", "too short"]
    # Formulas are defused, a plain "+number" is kept; quotes and newlines survive.
    assert rows[-3] == ["3002", '\'=HYPERLINK("http://x")', "not a phone number"]
    assert rows[-2] == ["3003", "+420 12", "too short"]
    assert rows[-1] == ["3004", 'a, "quoted"\nentry', "not a phone number"]
    assert [int(r[0]) for r in rows[1:]] == sorted(int(r[0]) for r in rows[1:])


async def test_invalid_file_is_cut_at_whole_rows(tmp_path: Path) -> None:
    text = "\n".join(f"x{i}" for i in range(200))
    prepared = await numbers.prepare_pasted(
        text, name="T", region="CZ", directory=tmp_path, max_invalid_file=1000
    )
    info = prepared.invalid_file
    assert info is not None and info.cut and 0 < info.rows < 200
    assert info.path.stat().st_size <= 1000
    rows = read_invalid_file(info.path)
    assert len(rows) == info.rows + 1
    assert rows[-1][:2] == [str(info.rows), f"x{info.rows - 1}"]


async def test_no_invalid_entries_no_file_and_abort_removes_it(tmp_path: Path) -> None:
    prepared = await numbers.prepare_pasted("601123456", name="T", region="CZ", directory=tmp_path)
    assert prepared.invalid_file is None
    src = tmp_path / "in.csv"
    src.write_text("phone\n" + "nope\n" * 10 + "601123456\n602000111\n")
    with pytest.raises(BadInput):
        await numbers.prepare_file(src, name="T", region="CZ", directory=tmp_path, max_numbers=1)
    left = sorted(p.name for p in tmp_path.iterdir())  # noqa: ASYNC240
    assert left == sorted([prepared.body_path.name, "in.csv"])


@pytest.mark.parametrize("raw", ["00420 222 000 800", "00420222000800", "tel:00420222000800"])
def test_00_is_the_international_prefix_when_no_country_is_chosen(raw: str) -> None:
    assert normalize_number(raw, None) == ("+420222000800", None)


def test_00_with_a_country_is_left_to_that_countrys_rules() -> None:
    assert normalize_number("00420 222 000 800", "CZ") == ("+420222000800", None)
    assert normalize_number("00420", None)[0] is None  # too short stays invalid

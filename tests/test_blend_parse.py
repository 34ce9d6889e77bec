"""The one blend parser (``xmedia.blend.parse_blend``): names, weights, normalisation and its errors."""
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xmedia.blend import existing_path, parse_blend, split_weight
from xmedia.errors import ConfigError

# names as users write them: zoo names, relative and absolute folders, Windows paths (a ':' in the name)
NAME = st.one_of(
    st.from_regex(r"[a-z][a-z0-9_-]{0,12}(@[0-9])?", fullmatch=True),
    st.from_regex(r"[a-z]{1,6}/[a-z][a-z0-9 _]{0,8}[a-z0-9]", fullmatch=True),
    st.from_regex(r"[A-Z]:\\[a-z]{1,6}\\[a-z]{1,6}", fullmatch=True),
)
WEIGHT = st.floats(0.0, 1e6, allow_nan=False, allow_infinity=False)


@settings(max_examples=200, deadline=None)
@given(items=st.lists(st.tuples(NAME, WEIGHT), min_size=1, max_size=5))
def test_names_and_weights_come_back_normalised(items):
    if sum(w for _, w in items) <= 0:
        with pytest.raises(ConfigError, match="must not all be zero"):
            parse_blend(",".join(f"{n}:{w!r}" for n, w in items))
        return
    spec = " , ".join(f"{n}:{w!r}" for n, w in items)
    parts = parse_blend(spec)
    assert [n for n, _ in parts] == [n for n, _ in items]
    total = math.fsum(w for _, w in items)
    assert all(math.isclose(got, w / total, rel_tol=1e-12, abs_tol=1e-300) for (_, got), (_, w) in zip(parts, items))
    assert math.isclose(math.fsum(w for _, w in parts), 1.0)
    assert parse_blend(spec, normalise=False) == [(n, float(repr(w))) for n, w in items]


@settings(max_examples=100, deadline=None)
@given(name=NAME)
def test_a_bare_name_has_weight_one_and_a_path_keeps_its_colon(name):
    assert parse_blend(name) == [(name, 1.0)]
    assert parse_blend(name + "/") == [(name, 1.0)]  # a folder's trailing slash
    assert split_weight(name) == (name, None)


@settings(max_examples=100, deadline=None)
@given(items=st.lists(NAME, min_size=1, max_size=4), bad=st.sampled_from(["-1", "-0.5", "nan", "inf", "-inf",
                                                                          "1e999", "NaN"]),
       at=st.integers(0, 3))
def test_a_negative_or_non_finite_weight_is_refused_by_name(items, bad, at):
    at = at % len(items)
    spec = ",".join(f"{n}:{bad}" if i == at else f"{n}:1" for i, n in enumerate(items))
    with pytest.raises(ConfigError, match=r"weights must be >= 0 and finite") as err:
        parse_blend(spec, "timbre")
    assert repr(items[at]) in str(err.value) and "timbre" in str(err.value)


def test_the_issue_cases():
    for spec in ("starry:-1,wave:2", "starry:nan,wave:1", "starry:inf", "wave:1,starry:-inf"):
        with pytest.raises(ConfigError, match="weights must be >= 0 and finite"):
            parse_blend(spec, "style")
    assert parse_blend("starry/:0.6, wave:0.4") == [("starry", 0.6), ("wave", 0.4)]
    assert parse_blend("violin:1,flute:0") == [("violin", 1.0), ("flute", 0.0)]  # kept: the name is checked
    assert parse_blend(r"C:\models\violin:3,D:\x:1") == [(r"C:\models\violin", 0.75), (r"D:\x", 0.25)]
    assert parse_blend("my_styles/van gogh") == [("my_styles/van gogh", 1.0)]
    assert parse_blend("a:b") == [("a:b", 1.0)]  # not a number after ':': part of the name


@pytest.mark.parametrize("spec, message", [
    ("", "names no style"), (" , ", "names no style"), ("a:0,b:0", "must not all be zero"),
    (":0.5", "has no name"), ("a:1e308,b:1e308", "too large"),
])
def test_errors_say_what_to_write(spec, message):
    with pytest.raises(ConfigError, match=message) as err:
        parse_blend(spec, "style")
    assert "a:0.7,b:0.3" in str(err.value) or "a:0.6,b:0.4" in str(err.value)


def test_existing_path_never_raises_on_text(tmp_path):
    assert existing_path(tmp_path) and not existing_path(tmp_path / "nope")
    for text in ("x" * 300, "a/" + "y" * 300, "two\nlines", "nul\0byte", "z" * 5000, ""):
        assert existing_path(text) is False

import itertools

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from contextvec.alignment.windows import context_scores, merge_windows, plan_windows, window_owner
from contextvec.alignment.words import align_words, first_word_of_tokens
from contextvec.batching import plan_batches


@given(st.integers(1, 400), st.integers(2, 64), st.data())
def test_windows_cover_every_token_and_respect_capacity(n: int, capacity: int, data: st.DataObject) -> None:
    stride = data.draw(st.integers(0, capacity - 1))
    windows = plan_windows(n, capacity, stride)
    covered = np.zeros(n, dtype=int)
    for s, e in windows:
        assert 0 <= s < e <= n and e - s <= capacity
        covered[s:e] += 1
    assert covered.min() >= 1
    if n > capacity:
        assert all(e - s == capacity for s, e in windows)  # the last window is aligned to the end, full
        for (_s1, e1), (s2, _) in itertools.pairwise(windows):
            assert e1 - s2 >= stride  # neighbours share at least `stride` tokens


@given(st.integers(1, 300), st.integers(4, 40), st.booleans(), st.data())
def test_each_token_is_owned_by_a_window_where_it_has_the_most_context(
    n: int, capacity: int, causal: bool, data: st.DataObject
) -> None:
    stride = data.draw(st.integers(0, capacity - 1))
    windows = plan_windows(n, capacity, stride)
    owner, row = window_owner(windows, n, causal)
    for t in range(n):
        s, e = windows[owner[t]]
        assert s + row[t] == t

        # brute force: context on each side, a side that reaches the text edge counting as complete
        def ctx(s: int, e: int, t: int = t) -> int:
            left = t - s if s > 0 else n + 1
            right = e - 1 - t if e < n else n + 1
            return left if causal else min(left, right)

        assert ctx(s, e) == max(ctx(a, b) for a, b in windows if a <= t < b)


def test_merge_takes_rows_from_the_owning_window() -> None:
    windows = plan_windows(10, 6, 3)  # [(0, 6), (3, 9), (4, 10)]
    vecs = [
        np.full((e - s, 1), w, dtype=np.float32) + np.arange(s, e)[:, None] / 100 for w, (s, e) in enumerate(windows)
    ]
    merged = merge_windows(vecs, windows, 10, causal=False)
    owner, _ = window_owner(windows, 10, causal=False)
    np.testing.assert_allclose(merged[:, 0], owner + np.arange(10) / 100, rtol=1e-6)
    assert context_scores(3, 9, 10, causal=False).tolist() == [0, 1, 2, 2, 1, 0]


def _overlap_brute(offsets: np.ndarray, words: np.ndarray) -> list[list[int]]:
    return [
        [t for t, (a, b) in enumerate(offsets.tolist()) if a < we and ws < b and a < b] for ws, we in words.tolist()
    ]


@st.composite
def tokens_and_words(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    n = draw(st.integers(1, 60))
    cuts = sorted(draw(st.lists(st.integers(0, n), min_size=2, max_size=30, unique=True)))
    words = np.array([(a, b) for a, b in zip(cuts[::2], cuts[1::2], strict=False) if a < b], dtype=np.int64)
    words = words.reshape(-1, 2)
    offs = []
    for _ in range(draw(st.integers(0, 40))):
        a = draw(st.integers(0, n))
        b = draw(st.integers(a, min(n, a + 6)))
        offs.append((a, b))
    return np.array(sorted(offs), dtype=np.int64).reshape(-1, 2), words


@given(tokens_and_words())
def test_word_alignment_equals_brute_force_overlap(case: tuple[np.ndarray, np.ndarray]) -> None:
    offsets, words = case
    alignment = align_words(offsets, words)
    for w, expected in enumerate(_overlap_brute(offsets, words)):
        got = alignment.token_index[alignment.indptr[w] : alignment.indptr[w + 1]].tolist()
        assert got == expected
    first = first_word_of_tokens(offsets, words)
    for t, (a, b) in enumerate(offsets.tolist()):
        hits = [w for w, (ws, we) in enumerate(words.tolist()) if a < we and ws < b and a < b]
        assert first[t] == (hits[0] if hits else -1)


def test_bpe_leading_space_and_byte_pieces_align() -> None:
    # " sat" (2, 6) carries its leading space; two byte pieces share the character of an emoji (7, 8)
    offsets = np.array([(0, 2), (2, 6), (6, 7), (7, 8), (7, 8)], dtype=np.int64)
    words = np.array([(0, 2), (3, 6), (7, 8)], dtype=np.int64)
    a = align_words(offsets, words)
    assert a.counts.tolist() == [1, 1, 2]
    assert a.tokens_of(2, 2).tolist() == [3, 4]
    assert first_word_of_tokens(offsets, words).tolist() == [0, 1, -1, 2, 2]


@given(st.lists(st.integers(1, 50), min_size=1, max_size=80), st.integers(50, 400), st.integers(1, 16))
def test_batches_hold_every_item_once_within_budget(lengths: list[int], budget: int, max_bs: int) -> None:
    batches = plan_batches(lengths, budget, max_bs)
    seen = sorted(i for b in batches for i in b)
    assert seen == list(range(len(lengths)))
    for b in batches:
        assert len(b) <= max_bs
        assert len(b) == 1 or len(b) * max(lengths[i] for i in b) <= budget

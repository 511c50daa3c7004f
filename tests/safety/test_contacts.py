"""Phone numbers: the matcher is skipped only where it could find nothing that is kept
(safety/contacts.py, `_may_hold_matched_phone`), so skipping it never changes a finding."""

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from messagecenter.safety import contacts, evaluation
from messagecenter.safety.contacts import CONTACT_PHONE, find_contacts
from messagecenter.safety.vocabulary import Vocabulary

VOCABULARY = Vocabulary()
REGION = VOCABULARY.phone_region

# Numbers only phonenumbers' matcher finds (no phone word before a bare run of digits, so
# not the long-digits rule; not spelled or spaced out): with a plus, a bracket or groups.
MATCHED_ONLY = [
    "(415) 867-5309",
    "(415)8675309",
    "[415]8675309 after six",
    "+14158675309",
    "+44 7911 123456",
    "+44 20 7946 0958",
    "415-867-5309 evenings",
    "415.867.5309",
    "415 867 5309 ext 12",
    "reach me 4158675309",
]


@pytest.mark.parametrize("body", MATCHED_ONLY)
def test_a_number_only_the_matcher_finds_is_found(body: str) -> None:
    findings = find_contacts(body, [], VOCABULARY)

    assert [f.category for f in findings] == [CONTACT_PHONE]
    assert contacts._matched_phones(body, REGION) != []


@pytest.mark.parametrize(
    "body",
    [
        "My order 114394168987 has not arrived",
        "Bench 1733241234567890123: any news about the delivery?",
        "ref 4158675",
    ],
)
def test_a_lone_run_of_digits_without_phone_words_is_no_phone_number(body: str) -> None:
    assert not contacts._may_hold_matched_phone(body)
    assert [f for f in find_contacts(body, [], VOCABULARY) if f.category == CONTACT_PHONE] == []


def _agrees(body: str) -> None:
    """Skipped only when the matcher would have kept nothing."""
    if not contacts._may_hold_matched_phone(body):
        assert contacts._matched_phones(body, REGION) == [], body


def test_the_evaluation_set_and_the_detector_tests_find_the_same_with_the_skip() -> None:
    bodies = [record["body"] for record in evaluation.load(evaluation.default_set())]
    for body in [*bodies, *MATCHED_ONLY]:
        _agrees(body)


# Text weighted towards what the matcher looks at: digits in runs and groups, separators,
# brackets, pluses, extensions, phone words cut anywhere, letters glued to digits.
PIECES = st.sampled_from(
    [
        "415",
        "867",
        "5309",
        "4158675309",
        "7911123456",
        "0",
        "1",
        "44",
        "20",
        " ",
        "-",
        ".",
        "/",
        "(",
        ")",
        "[",
        "+",
        "＋",
        "（",
        "#",
        "_",
        "x",
        " ext ",
        " ext. ",
        ";ext=",
        ", ",
        "\n",
        "call",
        "xcall",
        "tel",
        "phone",
        "order ",
        "a",
        "٤١٥",
        "²",
    ]
)
TEXT = st.lists(st.one_of(PIECES, st.text(max_size=4)), max_size=20).map("".join)


@settings(max_examples=1500, deadline=None)
@given(body=TEXT)
@example("call 4158675309")
@example("(4158675309")
@example("+4158675309")
@example("xcall 4158675309")
# The 40 characters _looks_like_phone reads before the number start inside "xcall".
@example("xcall" + " " * 36 + "4158675309")
def test_the_matcher_is_skipped_only_where_it_would_keep_nothing(body: str) -> None:
    _agrees(body)

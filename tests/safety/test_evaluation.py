from messagecenter.safety import evaluation
from messagecenter.safety.vocabulary import Vocabulary


def test_the_evaluation_set_meets_the_goals() -> None:
    records = evaluation.load(evaluation.default_set())
    result = evaluation.evaluate(records, Vocabulary())

    assert result.messages == len(records) >= 1000
    assert [(name, met) for name, _, _, met in result.goals] == [
        ("impersonation attempts caught", True),
        ("obfuscated contact details caught", True),
        ("ordinary messages flagged", True),
    ]


def test_the_reported_ways_to_pay_outside_are_found_and_their_lookalikes_stay_ok() -> None:
    # The third hand-written batch: a tester's report of requests to pay outside the
    # marketplace that came back ok, and ordinary messages with the same words
    # (scripts/safety_evaluation_set.py, QA_REPORT_2026_12_05).
    records = [
        record
        for record in evaluation.load(evaluation.default_set())
        if record.get("held_out") == 3
    ]
    result = evaluation.evaluate(records, Vocabulary())

    assert result.group_sizes == {"payment_outside": 16, "ordinary": 14}
    assert result.misses == []
    assert "| impersonation attempts caught | — | ≥ 99 % | — |" in result.as_text()


def test_respellings_and_secrets_at_a_link_are_found_and_their_lookalikes_stay_ok() -> None:
    # The fourth hand-written batch: an exploratory test's respellings ("Z e l l e", "Zel1e",
    # "C@sh App", "g1ft") and secrets asked for at a link, and ordinary messages with digits,
    # symbols and single letters (scripts/safety_evaluation_set.py, RESPELLINGS_2026_12_05).
    records = [
        record
        for record in evaluation.load(evaluation.default_set())
        if record.get("held_out") == 4
    ]
    result = evaluation.evaluate(records, Vocabulary())

    assert result.group_sizes == {"payment_outside": 14, "impersonation": 5, "ordinary": 14}
    assert result.misses == []


def test_the_reported_misses_are_found_and_their_lookalikes_stay_ok() -> None:
    # The fifth hand-written batch: "Get me a gift card for $50", good advice naming an app
    # ("My zelle is broken so please just pay on the marketplace"), respelled contact details
    # ("f1ve f1ve f1ve …", "j0hn.k at gma1l d0t c0m"), and their innocent lookalikes
    # (scripts/safety_evaluation_set.py, REPORTED_MISSES_2026_12_05).
    records = [
        record
        for record in evaluation.load(evaluation.default_set())
        if record.get("held_out") == 5
    ]
    result = evaluation.evaluate(records, Vocabulary())

    assert result.group_sizes == {"payment_outside": 8, "obfuscated_contact": 8, "ordinary": 14}
    assert result.misses == []


def test_the_exploratory_tests_findings_are_fixed_and_their_lookalikes_stay_ok() -> None:
    # The sixth hand-written batch: "my zelle works, so please pay me there, not on the
    # marketplace" (let through by batch 5's fix), "… My Venmo is not for orders." (good
    # advice warned), "Sizes: 5, 5.5, 6, 6.5, 7, 7.5" (masked as a phone number), and phone
    # numbers listed digit by digit that stay masked (scripts/safety_evaluation_set.py,
    # EXPLORATORY_TEST_2026_12_05).
    records = [
        record
        for record in evaluation.load(evaluation.default_set())
        if record.get("held_out") == 6
    ]
    result = evaluation.evaluate(records, Vocabulary())

    assert result.group_sizes == {"payment_outside": 6, "obfuscated_contact": 3, "ordinary": 6}
    assert result.misses == []


def test_the_seventh_batchs_findings_are_fixed_and_their_lookalikes_stay_ok() -> None:
    # The seventh hand-written batch: gift cards by brand or code ("iTunes cards are fine,
    # send me the codes"), paying on the marketplace refused beside an app, a phone number
    # with letters for digits ("415 555 O123") and a website spelled out ("mystore dot com"),
    # judged ok; a buyer buying a shop's gift card warned and numbers in order ("Version
    # 1.2.3.4.5.6.7") masked (scripts/safety_evaluation_set.py, REPORTED_2026_12_05_BATCH_7).
    records = [
        record
        for record in evaluation.load(evaluation.default_set())
        if record.get("held_out") == 7
    ]
    result = evaluation.evaluate(records, Vocabulary())

    assert result.group_sizes == {"payment_outside": 9, "obfuscated_contact": 3, "ordinary": 11}
    assert result.misses == []


def test_the_eighth_batchs_findings_are_fixed_and_their_lookalikes_stay_ok() -> None:
    # The eighth hand-written batch: a listed host spelled out ("pay at paypal dot me please",
    # masked as an e-mail address; "cash dot app"), "pay at mystore dot com" taken for an
    # address, "mystore d0t com" and "Visit cedarpine dot shop for more" judged ok; beside
    # mailboxes ("orders at velvetvine dot com") and "dot" in ordinary words ("Polka Dot
    # Shop", "D.O.T. approved") (scripts/safety_evaluation_set.py, FINDINGS_2026_12_05_BATCH_8).
    records = [
        record
        for record in evaluation.load(evaluation.default_set())
        if record.get("held_out") == 8
    ]
    result = evaluation.evaluate(records, Vocabulary())

    assert result.group_sizes == {"obfuscated_contact": 9, "payment_outside": 5, "ordinary": 8}
    assert result.misses == []

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

"""The pure rating core names its categories itself; the Call model stores the same values."""

from billing.models import Call
from billing.rating import Category


def test_the_call_model_stores_every_rating_category() -> None:
    assert {c.value for c in Category} == set(Call.Category.values)


def test_a_rating_category_is_its_model_choice() -> None:
    for category in Category:
        assert Call.Category(category.value) == category

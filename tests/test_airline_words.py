"""Rules version 9: a cancellation told to an airline says a flight called off even when no flight is named or
the customer is not the grammatical subject ("@x Cancelled. Again.", "@x cancellations all day and not one agent");
and what fails on board (the plane's wifi, screens, power) is a bad flight, not an outage of the customer's
service. Each form with the near misses it must not swallow. Sentences written by hand; none is copied from a
data set."""

from __future__ import annotations

import pytest

from ticket_enricher.agents.rules.signals import detect


@pytest.mark.parametrize("text", [
    "@united Cancellations all day and not one agent at the desk",
    "@SouthwestAir why cancel the only flight home tonight??",
    "@AmericanAir third cancellation this week, I give up",
    "@JetBlue Cancelled. Again. Stuck in Boston with two kids",
    "@VirginAmerica canceled and now a hotel on my own dime",
    "@usairways cancelations everywhere and nobody answers",
    "@united Flights to Chicago cancelled and no one will tell us when we can leave",
    "@delta what am I supposed to do now that it's canceled",
    "@Delta so the 5:40 to Boston is Cancelled Flighted and you won't rebook us until Friday",
    "@AmericanAir you guys cancelled on us with 20 minutes to departure",
    "Canceled at the gate by @flyfrontier after a 2 hour wait",
    "@JetBlue cancelling flights because of crew and not a word of sorry",
])
def test_cancellation_told_to_an_airline(text: str) -> None:
    assert "trip_disrupted" in detect(text), text


@pytest.mark.parametrize("text", [
    "@united how do I cancel my reservation online?",
    "@delta I need to cancel my trip next week, is there a fee?",
    "@SouthwestAir can I get a refund if I cancel?",
    "@JetBlue is my flight going to be cancelled tomorrow with the storm?",
    "@AmericanAir I cancelled my card so the payment failed, can I pay again?",
    "@united the cancellation fee is ridiculous",
    "@Delta glad my flight wasn't cancelled like the rest",
    "@JetBlue do you sell noise cancelling headphones on board?",
    "@AlaskaAir my sister said her flight got cancelled yesterday",
    "@united what's your cancellation policy for basic economy?",
    "@SouthwestAir we'd like to cancel the return leg and keep the outbound",
    "@AmericanAir please cancel my upgrade request",
    "Our wedding got cancelled so we won't need the flights @JetBlue",
    "@VirginAmerica will flights be cancelled if the snow keeps up?",
])
def test_not_a_cancellation_that_fell_on_the_customer(text: str) -> None:
    assert "trip_disrupted" not in detect(text), text


@pytest.mark.parametrize("text", [
    "@united no wifi for the whole flight, ugh",
    "@SouthwestAir wifi not working again on this plane",
    "@JetBlue tv screens down at half the seats, so much for the movies",
    "@AmericanAir no power outlets and my phone is dying",
    "@Delta the in-flight entertainment crashed an hour in",
    "@VirginAmerica no tvs and no wifi on a 6 hour trip?",
])
def test_on_board_amenities_are_no_outage(text: str) -> None:
    assert "outage" not in detect(text), text


@pytest.mark.parametrize("text", [
    "@Gogo wifi down on my flight again",
    "@united your app is down and I can't check in",
    "@AmericanAir website is down, can't rebook anything",
    "@comcast no wifi at home since Tuesday",
    "@united no wifi at the terminal either, and your app won't load",
])
def test_outages_beside_an_airline_still_found(text: str) -> None:
    assert "outage" in detect(text), text


@pytest.mark.parametrize(("text", "found"), [
    ("@united flight delayed 3 hours and they won't even give my kids water", True),
    ("@delta flight cancelled and they won't rebook my wife and kids", True),
    ("@AmericanAir my flight got cancelled and my husband said you won't refund it", True),
    ("@AlaskaAir my sister said her flight got cancelled yesterday", False),
    ("a friend's @Delta flight got held for weather and she met her future husband at the gate", False),
])
def test_a_kin_owns_the_trip_only_when_named_before_it(text: str, found: bool) -> None:
    assert ("trip_disrupted" in detect(text)) is found, text


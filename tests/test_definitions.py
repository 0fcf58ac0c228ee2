"""The rules model on sentences written from the tags' definitions: the common ways customers say that a service is
down, that a charge is wrong, or that they are leaving, each of which must be read; and neutral questions and
thanks, which must not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ticket_enricher.agents.enrichment import Enrichment
from ticket_enricher.agents.factory import build_planner
from ticket_enricher.agents.notes import read_account_tags
from ticket_enricher.agents.rules.signals import detect
from ticket_enricher.config.settings import load_settings
from ticket_enricher.core.events import TicketEvent
from ticket_enricher.memory.sqlite import SqliteMemoryStore

CONFIG = load_settings()
START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


# Sentences written from the tags' definitions (how customers commonly say each thing), not taken from any data set:
# each must show its family of signals, and the neutral ones none.
_SERVICE_DOWN = {"outage", "lockout", "trip_disrupted"}
_MONEY_DISPUTED = {"billing_error", "escalation_refund"}
_LEAVING = {"escalation_cancel", "escalation_switch", "escalation_legal"}


@pytest.mark.parametrize(("text", "family"), [
    ('is your site down? nothing loads', _SERVICE_DOWN),
    ('app keeps crashing every time I open it', _SERVICE_DOWN),
    ('internet is out again in my area', _SERVICE_DOWN),
    ('no wifi since 6am', _SERVICE_DOWN),
    ('my service has been down all day', _SERVICE_DOWN),
    ('we have no power and no internet', _SERVICE_DOWN),
    ('the servers are down', _SERVICE_DOWN),
    ("can't connect to the network", _SERVICE_DOWN),
    ('getting an error every time I try to pay', _SERVICE_DOWN),
    ("website isn't working", _SERVICE_DOWN),
    ('stuck on the loading screen for an hour', _SERVICE_DOWN),
    ('no bars no signal nothing', _SERVICE_DOWN),
    ('calls keep dropping', _SERVICE_DOWN),
    ("the app won't open", _SERVICE_DOWN),
    ('streaming keeps buffering and then stops', _SERVICE_DOWN),
    ('my cable has been out since yesterday', _SERVICE_DOWN),
    ('is there an outage in 90210?', _SERVICE_DOWN),
    ('online ordering is not working', _SERVICE_DOWN),
    ('your app is broken', _SERVICE_DOWN),
    ('the site crashed at checkout', _SERVICE_DOWN),
    ('my phone has had no service for two days', _SERVICE_DOWN),
    ("the internet is so slow it's unusable", _SERVICE_DOWN),
    ('your system is down again', _SERVICE_DOWN),
    ("I can't get online", _SERVICE_DOWN),
    ('wifi not working at the hotel', _SERVICE_DOWN),
    ('the app says something went wrong', _SERVICE_DOWN),
    ('game servers offline again', _SERVICE_DOWN),
    ("can't stream anything tonight", _SERVICE_DOWN),
    ('email not loading', _SERVICE_DOWN),
    ('the website keeps timing out', _SERVICE_DOWN),
    ('my account is locked', _SERVICE_DOWN),
    ('card declined for no reason', _SERVICE_DOWN),
    ("can't sign in to my account", _SERVICE_DOWN),
    ('flight delayed 3 hours', _SERVICE_DOWN),
    ('train cancelled again', _SERVICE_DOWN),
    ('stuck on the tarmac for 2 hours', _SERVICE_DOWN),
    ('our flight was cancelled', _SERVICE_DOWN),
    ('bus never showed up', _SERVICE_DOWN),
    ('why was I charged twice?', _MONEY_DISPUTED),
    ('I was billed for something I never ordered', _MONEY_DISPUTED),
    ('refund me now', _MONEY_DISPUTED),
    ('I want my money back', _MONEY_DISPUTED),
    ('you overcharged me', _MONEY_DISPUTED),
    ('hidden fees everywhere', _MONEY_DISPUTED),
    ('my bill went up $20 with no notice', _MONEY_DISPUTED),
    ('double charged on my card', _MONEY_DISPUTED),
    ("still haven't received my refund", _MONEY_DISPUTED),
    ('where is my refund?', _MONEY_DISPUTED),
    ('I want to dispute this charge', _MONEY_DISPUTED),
    ('charged for a cancelled order', _MONEY_DISPUTED),
    ("promo code didn't apply and I was charged full price", _MONEY_DISPUTED),
    ('charged a late fee for no reason', _MONEY_DISPUTED),
    ('I paid for next day delivery and it came a week later, I want the shipping refunded', _MONEY_DISPUTED),
    ('stop charging my card', _MONEY_DISPUTED),
    ('you took money out of my account without permission', _MONEY_DISPUTED),
    ('why is my bill so high this month', _MONEY_DISPUTED),
    ('I was promised a discount that never showed up on my bill', _MONEY_DISPUTED),
    ('this charge is wrong', _MONEY_DISPUTED),
    ('they charged me $50 extra', _MONEY_DISPUTED),
    ('I need a refund for the broken item', _MONEY_DISPUTED),
    ('cancelled my subscription but still being charged', _MONEY_DISPUTED),
    ('can I get compensation for the delay?', _MONEY_DISPUTED),
    ('I deserve a credit for the outage', _MONEY_DISPUTED),
    ("I'm done with you guys", _LEAVING),
    ('cancel my subscription', _LEAVING),
    ('never again', _LEAVING),
    ('goodbye @acme', _LEAVING),
    ('unsubscribing right now', _LEAVING),
    ('moving my business to another bank', _LEAVING),
    ('please close my account', _LEAVING),
    ("you've lost my business", _LEAVING),
    ('time to look elsewhere', _LEAVING),
    ('considering other options at this point', _LEAVING),
    ('deleting the app', _LEAVING),
    ('last time I fly with you', _LEAVING),
    ('will never recommend you to anyone', _LEAVING),
    ("I'm taking my business elsewhere", _LEAVING),
    ('I want to cancel my service', _LEAVING),
    ('looking for a new provider', _LEAVING),
    ("I'll be switching carriers", _LEAVING),
    ('done with this company', _LEAVING),
    ("I'm leaving for another carrier", _LEAVING),
    ('cancelling my membership today', _LEAVING),
    ('I quit using your service', _LEAVING),
    ('switching to verizon', _LEAVING),
    ("this is the last straw, I'm cancelling", _LEAVING),
    ('never shopping here again', _LEAVING),
    ('contacting my lawyer', _LEAVING),
    ('I will be filing a complaint with the FCC', _LEAVING),
    # not read yet: a brand name with no service word, a "dead" line, a count that does not add up
    *(pytest.param(text, family, marks=pytest.mark.xfail(strict=True, reason="not read yet")) for text, family in (
        ("netflix won't play anything", _SERVICE_DOWN), ("my line is dead", _SERVICE_DOWN),
        ("charged me for 2 tickets but I only bought 1", _MONEY_DISPUTED))),
])
def test_definition_sentences_show_their_family(text: str, family: set[str]) -> None:
    assert family & set(detect(text)), detect(text)


@pytest.mark.parametrize("text", [
    'thanks, the app works now',
    'how do I reset my password?',
    'when does the sale start?',
    'love the new update!',
    'can I change my flight?',
    "what's the price of the unlimited plan?",
    'how long does a refund take?',
    'got my refund, thanks!',
    'is there a discount for students?',
    'my phone screen is cracked',
    'the battery drains fast',
    'can I cancel my order?',
    "I'd like to upgrade my plan",
    'do you deliver on sundays?',
    'great service today',
    'where can I find my invoice?',
    'how do I pay my bill online?',
    'is the store open today?',
])
def test_neutral_sentences_show_no_failure_dispute_or_leaving(text: str) -> None:
    assert not (_SERVICE_DOWN | _MONEY_DISPUTED | _LEAVING) & set(detect(text)), detect(text)


# A second set, written the same way after the first was read: tweet-style (slang, no punctuation, abbreviations) and
# the mood a customer-success lead would call strong frustration.
_MOOD = {"hostility", "anger", "frustration"}


@pytest.mark.parametrize(("text", "family"), [
    ('wifi down again smh', _SERVICE_DOWN),
    ('@comcast internet been down 3 hrs wtf', _SERVICE_DOWN),
    ('why does the app keep logging me out', _SERVICE_DOWN),
    ('app not loading at all', _SERVICE_DOWN),
    ('cant log into my account', _SERVICE_DOWN),
    ('your website is a mess, nothing works', _SERVICE_DOWN),
    ('been trying to order for an hour, site keeps crashing', _SERVICE_DOWN),
    ('no 4g in downtown again', _SERVICE_DOWN),
    ('phone says no service', _SERVICE_DOWN),
    ('my tv has no signal', _SERVICE_DOWN),
    ('the app freezes on the payment screen', _SERVICE_DOWN),
    ("page won't load on chrome or safari", _SERVICE_DOWN),
    ('checkout is broken', _SERVICE_DOWN),
    ("I can't access my account", _SERVICE_DOWN),
    ('getting error 503', _SERVICE_DOWN),
    ('stuck in a queue on your website for 40 mins', _SERVICE_DOWN),
    ('your servers are trash, lagging all night', _SERVICE_DOWN),
    ('connection keeps dropping', _SERVICE_DOWN),
    ('the internet has been going in and out all day', _SERVICE_DOWN),
    ('no dial tone on my landline', _SERVICE_DOWN),
    ('power outage in our street', _SERVICE_DOWN),
    ('my flight got delayed again', _SERVICE_DOWN),
    ('they cancelled my flight last minute', _SERVICE_DOWN),
    ('missed my connection because of your delay', _SERVICE_DOWN),
    ('train is 40 mins late', _SERVICE_DOWN),
    ('been sat on this train for an hour not moving', _SERVICE_DOWN),
    ('my uber driver cancelled twice', _SERVICE_DOWN),
    ('card keeps getting declined', _SERVICE_DOWN),
    ('my account got suspended', _SERVICE_DOWN),
    ('locked out of my account', _SERVICE_DOWN),
    ('password reset link doesnt work', _SERVICE_DOWN),
    ("the app won't let me sign in", _SERVICE_DOWN),
    ("can't make calls since this morning", _SERVICE_DOWN),
    ('data not working on my phone since the update to your network', _SERVICE_DOWN),
    ('no hot water and no heating, engineer never came', _SERVICE_DOWN),
    ('why am I being charged for this', _MONEY_DISPUTED),
    ('charged me twice for the same order', _MONEY_DISPUTED),
    ('I never signed up for this charge', _MONEY_DISPUTED),
    ("where's my refund it's been 2 weeks", _MONEY_DISPUTED),
    ('still no refund', _MONEY_DISPUTED),
    ('refund my money', _MONEY_DISPUTED),
    ('I was overcharged by $30', _MONEY_DISPUTED),
    ('my bill doubled', _MONEY_DISPUTED),
    ('you charged my card after I cancelled', _MONEY_DISPUTED),
    ('I want a refund', _MONEY_DISPUTED),
    ('this fee is ridiculous', _MONEY_DISPUTED),
    ('I was charged a cancellation fee even though the driver cancelled', _MONEY_DISPUTED),
    ('why is there a charge on my statement from you', _MONEY_DISPUTED),
    ('pay me back for the hotel', _MONEY_DISPUTED),
    ('give me my money back', _MONEY_DISPUTED),
    ('I demand a refund', _MONEY_DISPUTED),
    ('who authorized this payment?', _MONEY_DISPUTED),
    ('you took $50 from my account', _MONEY_DISPUTED),
    ("been billed for a service I don't have", _MONEY_DISPUTED),
    ('wrong amount charged', _MONEY_DISPUTED),
    ('I was promised a refund and never got it', _MONEY_DISPUTED),
    ('you still owe me $40', _MONEY_DISPUTED),
    ("charging me for data I didn't use", _MONEY_DISPUTED),
    ('im switching to tmobile', _LEAVING),
    ('gonna cancel my account', _LEAVING),
    ('bye @comcast', _LEAVING),
    ("I'll never fly with you again", _LEAVING),
    ('never using you again', _LEAVING),
    ('cancelling my sub', _LEAVING),
    ('thinking about switching providers', _LEAVING),
    ("I'm going with another company", _LEAVING),
    ('you just lost a customer', _LEAVING),
    ("I'm done, cancelling tomorrow", _LEAVING),
    ('time to find a new bank', _LEAVING),
    ('moving to @att', _LEAVING),
    ('please cancel my account effective immediately', _LEAVING),
    ("I'll take my business elsewhere", _LEAVING),
    ('will be cancelling my membership', _LEAVING),
    ('looking at other carriers', _LEAVING),
    ('I regret ever signing up with you', _LEAVING),
    ("I'm reporting you to the BBB", _LEAVING),
    ('going to sue', _LEAVING),
    ('this is my last month with you', _LEAVING),
    ('port my number out', _LEAVING),
    ('shopping for a new provider', _LEAVING),
    ('this is ridiculous', _MOOD),
    ('so fed up with you', _MOOD),
    ('absolutely disgusted', _MOOD),
    ('worst customer service ever', _MOOD),
    ("I'm furious", _MOOD),
    ('sick of this', _MOOD),
    ('what a joke', _MOOD),
    ('pathetic service', _MOOD),
    ('useless company', _MOOD),
    ("I'm so angry right now", _MOOD),
    ('you people are incompetent', _MOOD),
    ('this is unacceptable', _MOOD),
    ('terrible experience', _MOOD),
    ('I am livid', _MOOD),
    ('shame on you', _MOOD),
    ('you should be ashamed', _MOOD),
    ('disgraceful', _MOOD),
    ('what a nightmare', _MOOD),
    ('delayed 2 hrs and no info', _SERVICE_DOWN),  # read since rules version 6: a delay counted in hours
    ('I want out of my contract', _LEAVING),  # read since rules version 6: a step of leaving
    *(pytest.param(text, family, marks=pytest.mark.xfail(strict=True, reason="not read yet")) for text, family in (
        ('the price on the website was lower than what I paid', _MONEY_DISPUTED),
        ('worst decision I ever made joining you', _LEAVING),
        ('never had such bad service', _MOOD),
        ('SORT IT OUT', _MOOD),
    )),
])
def test_second_set_shows_its_family(text: str, family: set[str]) -> None:
    assert family & set(detect(text)), detect(text)


@pytest.mark.parametrize("text", [
    'thanks for the quick reply',
    'ok will do',
    'just sent a DM',
    'my order number is 12345',
    'love this app',
    'what time does the store close?',
    'how do I change my address?',
    'can I add a line to my plan?',
    'is there a fee to change my flight?',
    'does the refund go back to my card?',
    'how do I cancel an order?',
    'when is the next train to London?',
    'can I switch my plan to unlimited?',
    "I'm leaving for vacation tomorrow, can I pause my service?",
    'I forgot my password',
    'do you price match?',
    'I paid my bill today',
    'great job on the new feature',
    'will my flight be delayed because of the snow?',
])
def test_second_neutral_set_shows_nothing(text: str) -> None:
    assert not (_SERVICE_DOWN | _MONEY_DISPUTED | _LEAVING | {"hostility", "anger"}) & set(detect(text)), detect(text)

# Two-message histories written from churn_risk's definition: leaving stated, or serious or repeated failures with
# strong frustration, is churn; questions, mild one-off issues and resolved, thankful customers are not. Each runs
# through the enrichment service and the real SQLite store.
# not read yet: a failure that lasts ("for a week") is no persistence, so with mild words it scores 2 of 3. Counting
# it was tried: it added a churn false alarm on the tune split ("I had no power for 5 days" after a hurricane).
_LASTING = pytest.mark.xfail(strict=True, reason="a lasting failure is not counted as persistence")
_CHURN_HISTORIES = [
    (('My internet has been down for 3 days', 'This is ridiculous, nobody is helping'), True),
    (('Second time my package got lost this month', 'Absolutely fed up with you'), True),
    (('You charged me twice AGAIN', "I'm sick of this, sort it out"), True),
    (('Flight cancelled and no rebooking offered', 'Worst airline ever, stuck at the airport overnight'), True),
    (('Been on hold for 2 hours', 'Useless. Cancelling my account'), True),
    (('My order never arrived', 'I want a refund, this is a joke'), True),
    pytest.param(('App has been crashing for a week', "I'm paying for a service that doesn't work, unacceptable"), True,
                 marks=_LASTING),
    (('Still no refund after 3 weeks', "I've called 5 times, nobody can help. Disgusted."), True),
    (('Lost my bags', 'Never flying with you again'), True),
    (('Third outage this week', 'Looking at other providers now'), True),
    (('Card declined again at the store, so embarrassing', "Fix this or I'm closing my account"), True),
    pytest.param(('No signal at home for days', "I'm paying for nothing. Terrible service"), True, marks=_LASTING),
    (('How do I reset my password?', 'Thanks, that worked'), False),
    (('My order is late', 'Ok thanks for the update'), False),
    (('Internet was down this morning', "It's back now, thanks!"), False),
    (('Can I change my delivery address?', 'Great, thank you'), False),
    (('I was charged twice', 'Thanks for refunding it so quickly!'), False),
    (('Love the new app', 'Keep it up'), False),
    (('Is there a student discount?', 'Cool'), False),
    (('My flight is delayed 30 mins', 'No worries, thanks for letting me know'), False),
    (('The app is a bit slow today', 'Fine now'), False),
    (('Where can I find my invoice?', 'Got it, thanks'), False),
]


@pytest.mark.parametrize(("history", "churn"), _CHURN_HISTORIES)
async def test_churn_histories_from_the_definition(tmp_path, history: tuple[str, str], churn: bool) -> None:
    store = SqliteMemoryStore(tmp_path / "memory.db")
    try:
        agent = Enrichment(build_planner(CONFIG, store), store)
        for i, body in enumerate(history):
            results = await agent.enrich([TicketEvent.model_validate({
                "event_id": f"h-{i}", "type": "ticket.created", "occurred_at": START + timedelta(hours=i),
                "account_id": "acct", "ticket": {"id": f"T-{i}", "subject": body[:60], "body": body,
                                                 "priority": "normal", "channel": "social"},
            })])
            assert not any(isinstance(r, Exception) for r in results), results
        _, tags = await read_account_tags(store, "acct")
    finally:
        await store.close()
    assert ("churn_risk" in tags.tags) == churn, {n: r.reason for n, r in tags.tags.items()}

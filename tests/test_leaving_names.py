"""Rules version 9: leaving told with a provider the rules do not know by name, written as a name ("Switching to
Zen", "I'm leaving Shaw, will return the modem"), lines moved to another ("4 lines to T-Mobile"), an end at the
end of the term, money taken out of a bank, "you had a good run", "refund it and close my account". Each form
with near misses. Sentences written by hand; none is copied from a data set."""

from __future__ import annotations

import pytest

from ticket_enricher.agents.rules.signals import detect


@pytest.mark.parametrize(("text", "found"), [
    ("the price went up again so I'm switching to Zen next month", True),
    ("porting to @giffgaff tomorrow, bye", True),
    ("we're leaving Shaw on Friday and the modem goes back the same day", True),
    ("taking both our phones to Mint Mobile after this bill", True),
    ("3 lines to Visible as soon as the contract ends", True),
    ("I'll cancel at the end of the contract, no point staying", True),
    ("100% going to EE when my contract is up", True),
    ("pulling all our savings out of Halifax this week", True),
    ("porting both numbers out of Three on Monday", True),
    ("Cancelling Crunchyroll, there is nothing left I want to watch", True),
    ("@x you had a good run, but the new bill is the end of it", True),
    ("please refund it and close my account", True),
    ("is there a fee for early termination?", True),
    ("early cancellation of my hotel booking, can I get the deposit back?", False),
    ("how do I transfer money from Chase to my Monzo account?", False),
    ("how do I move money out of my savings pot?", False),
    ("cancelling Sarah's birthday drinks, she's ill", False),
    ("that show had a good run, sad it's over", False),
    ("they closed and deleted my account without asking", False),
    ("switching to Dark Mode fixed the glare, thanks", False),
    ("switching to paperless billing was easy", False),
    ("I'm leaving Boston tomorrow on the 6am flight @JetBlue", False),
    ("I'm leaving London next week, can my broadband contract move with me?", False),
    ("can I move my 2 lines to a new plan?", False),
    ("the discount will terminate at the end of the trial", False),
    ("we added 2 lines to our plan last month", False),
])
def test_leaving_a_provider_named_as_a_name(text: str, found: bool) -> None:
    assert ("escalation_cancel" in detect(text) or "escalation_switch" in detect(text)) is found, text


# said plainly in a chat (signals/goodbyes._plainly_leaving), and the steps India's customers name
@pytest.mark.parametrize(("text", "found"), [
    ("I'm switching, so please stop calling me with offers", True),
    ("ok I will change the company then, send me whatever code I need", True),
    ("after this week I'm going with someone else, anyone really", True),
    ("the office closes on Friday and we won't need your service after that", True),
    ("please disconnect the landline for good", True),
    ("what's the cheapest way out of my contract?", True),
    ("I do not want the renewal, let it run out", True),
    ("please raise my MNP request today", True),
    ("all dues are paid, I need the NOC for disconnection", True),
    ("kindly disconnect my broadband connection from the 1st", True),
    ("I'm switching off the router now, one sec", False),
    ("i dont want change company, just fix the internet", False),
    ("going with my sister to the store to pick up the phone", False),
    ("for good measure I restarted the modem twice", False),
    ("is the renewal automatic?", False),
    ("I came from Vi with MNP and the new sim has no signal", False),
])
def test_leaving_said_plainly_in_a_chat(text: str, found: bool) -> None:
    assert ("escalation_cancel" in detect(text) or "escalation_switch" in detect(text)) is found, text

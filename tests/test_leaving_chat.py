"""Rules version 10: leaving as customers type it into a provider's chat (signals/leaving_chat.py and the forms
beside it): a pronoun for what ends, no object at all, notice given, the number taken along, the new provider, a
word from the customer's first language; and the near misses a chat holds (an option ended, a number ported in,
a notice taken back, a lost SIM blocked, a kin's line the customer ends). Sentences written by hand; none is
copied from a data set."""

from __future__ import annotations

import pytest

from ticket_enricher.agents.rules.signals import detect


def _leaves(text: str) -> bool:
    found = detect(text)
    return "escalation_cancel" in found or "escalation_switch" in found


@pytest.mark.parametrize(("text", "found"), [
    # a pronoun for what the customer holds, named before
    ("we sold the house so the broadband is not needed, end it please", True),
    ("the landline is the last thing I have with you. close it too", True),
    ("the fibre never reached the promised speed, how do I cancel it", True),
    ("my old router line is useless now, can you terminate it", True),
    ("my card was stolen last night, cancel it please", False),
    ("the parcel is late again, cancel it", False),
    ("I booked an engineer visit for Monday, please cancel it", False),
    ("I added the sports option by mistake, can you remove it", False),
    ("my phone was stolen with the sim inside, stop it now", False),
    # no object: how or when the customer may leave, with what it costs or a contract in the text
    ("plz terminate, I have paid the last bill", True),
    ("if I terminate now what do I still owe for the handset", True),
    ("how to leave before the 24 months are over without a penalty", True),
    ("settle the contract and leave, that is all I want", True),
    ("when does my contract end? I might take a new phone", False),
    ("we have been on the plane for two hours, when can we leave?", False),
    ("please leave the parcel with the neighbour", False),
    # notice, the number taken along, the new provider
    ("notice given. when do you collect the box", True),
    ("I give notice today, please confirm the date", True),
    ("I gave notice to my landlord, so I need the internet at the new flat", False),
    ("I found a better deal, how can I take my number with me", True),
    ("the new provider says they handle everything, do I have to call you?", True),
    ("what do I send the new company so my number moves", True),
    ("my number to other company please, today", True),
    ("you are my new provider since May, where is my welcome letter", False),
    ("porting my number in from another network, how long?", False),
    ("please port my husband's number from Lebara into our family plan", False),
    # words of ending from the customer's first language, and their near misses
    ("kündigen bitte, ab Ende Monat", True),
    ("je veux résilier ma box internet", True),
    ("recesso anticipato, quanto costa?", True),
    ("vertrag läuft aus, nicht verlängern", True),
    ("bitte die Kündigung zurückziehen, ich bleibe", False),
    ("Kündigung der Zusatzoption, nicht vom Vertrag", False),
    ("annuler ma résiliation svp", False),
    # withdrawal from a contract, not money withdrawn
    ("I signed on Saturday and want to withdraw from the contract", True),
    ("can I still use my right of withdrawal? the phone is unopened", True),
    ("can I withdraw from my savings account at any machine?", False),
    ("there is a cash withdrawal from my account I did not make", False),
])
def test_leaving_in_a_chat(text: str, found: bool) -> None:
    assert _leaves(text) is found, text


@pytest.mark.parametrize(("text", "found"), [
    # staying said plainly, or the notice taken back
    ("I was ready to go, but the discount is fine: I stay", False),
    ("please withdraw my cancellation request, I changed my mind", False),
    ("cancel the second tv box but keep the internet and the mobile", False),
    ("I'll stay only if you match the price, otherwise I cancel my contract", True),
    # a kin's line ended by the customer is a line lost; the kin's own act is not the customer's
    ("my father moved into a care home, we want to stop his landline", True),
    ("my daughter cancelled her own plan and got one from her work", False),
    # the customer's intent in the past, or negated
    ("I was going to switch but your offer convinced me", False),
    ("I don't want to change provider, I just want a cheaper plan", False),
    ("I don't want you anymore, send me the final bill", True),
    ("just tell me how to get rid of this contract", True),
    # leaving named with a rival's price
    ("Wingo is cheaper, bye", True),
    ("thanks for fixing it, bye", False),
    ("I'm seriously thinking about going to Salt, what can you offer?", True),
    ("we chose a different carrier after the tender", True),
])
def test_staying_and_near_things(text: str, found: bool) -> None:
    assert _leaves(text) is found, text


@pytest.mark.parametrize(("text", "found"), [
    # an ultimatum, or a plain goodbye with a price or a rival in the text
    ("I'm leaving unless someone sorts the speed this week", True),
    ("match what Plusnet charges or I'm moving", True),
    ("Zen is ten pounds cheaper for the same line. I'm going.", True),
    ("they offered me double the data, so either you beat it or should I just go?", True),
    ("I'm moving next month, can the broadband come with me?", False),
    ("we've been on this plane 2 hours and nobody says when we're going", False),
    ("I'm going to bed, the engineer can come tomorrow", False),
    # a rival already joined, or the number taken to one
    ("Just joined Telstra, what do I post back to you?", True),
    ("I've signed up with Hyperoptic already, how do we wrap this up", True),
    ("I just signed up for Premium, where do I see it?", False),
    ("Lebara need my account number to bring my number over", True),
    ("I'm moving my number to my new phone tomorrow", False),
    # what leaving costs, or whether the customer may
    ("What's the ETF if I go now?", True),
    ("is an ETF a good place to keep my savings?", False),
    ("so can I walk away without paying anything?", True),
    ("how do I move off you to someone who answers the phone", True),
    ("what would I owe if I left in March?", True),
    ("I'd like to request permanent disconnection of my connection", True),
    ("I'm disconnecting, the router goes back tomorrow", True),
    ("the promo will terminate at the end of the month", False),
    # within the provider, kept, or not the customer's
    ("can I leave my current plan and go onto one of your cheaper ones?", False),
    ("close the account I opened by mistake, the main one stays", False),
    ("stop the sports renewal but keep my broadband plan as it is", False),
    ("please cancel my new line order, I'll add it later", False),
    ("move the bill to my daughter's name, she'll be paying from now on", False),
    ("I was going to leave but the new price works for me", False),
])
def test_leaving_said_in_a_chat_as_a_choice(text: str, found: bool) -> None:
    assert _leaves(text) is found, text


@pytest.mark.parametrize(("text", "found"), [
    ("the bill went up again. right, I'm off.", True),
    ("I'm off today, can the engineer come Friday?", False),
    ("i want out and i want the last bill to be right", True),
    ("now that I'm out of contract can I leave whenever I like?", True),
    ("if I clear the handset balance can I leave straight away?", True),
    ("I'll be leaving when my term is up, the new deal is not for me", True),
    ("how do I exit my contract with you", True),
    ("you are dearer than Vodafone, why shouldn't I just leave?", True),
    ("Smarty offered me twice the data. should I make the jump?", True),
    ("after 12 years I go to Yallo because they are half the price", True),
    ("we're going with Kayo instead, so stop the sports package", True),
    ("going with Sarah to pick up the new phone", False),
    ("we're all moving to Digi, 3 numbers to move, what happens to the account?", True),
    ("I'm porting my number to US Mobile tomorrow, anything to do first?", True),
    ("please port my number to us from O2, I've got the PAC", False),
    ("give me one reason to stay when Three just offered me more data", True),
    ("Seriously thinking of jumping, what would it cost me?", True),
    ("not interested in renewing, let it run out", True),
    ("I'm not interested in the new phone, just the renewal price", False),
])
def test_leaving_said_in_a_chat_more_ways(text: str, found: bool) -> None:
    assert _leaves(text) is found, text


# Rules version 11: more of a chat's goodbyes, from batch 16's read half (forms, not its sentences)
@pytest.mark.parametrize(("text", "found"), [
    ("this network is a joke and im leaving end of story", True),
    ("we're leaving for good, send the final bill", True),
    ("i'm leaving for vodacom next month, what about my airtime", True),
    ("I'm leaving for Lisbon on Monday, is roaming on?", False),
    ("i'm leaving for work, call me later", False),
    ("i wanna leave lol how", True),
    ("i want to go, full stop", True),
    ("tell me what i still owe and i'll go", True),
    ("what's the fee to go now", True),
    ("i want to go to the store", False),
    ("do I have to go to a shop to swap the sim?", False),
    ("can i leave for free since the signal is so bad here", True),
    ("the contract says I can leave penalty free after a price rise, right?", True),
    ("can I leave for Spain without roaming charges?", False),
    ("what's the penalty for ending 6 months early", True),
    ("do I pay for the modem if it isn't sent back after leaving", True),
    ("how much to buy out the rest of my contract", True),
    ("what's the cheapest way to get out of my 18 month deal", True),
    ("i'm not staying after this year, how do I stop auto renewal", True),
    ("I'm not staying home tonight, will the wifi be fine", False),
    ("how do i stop being your customer", True),
    ("please release my number", True),
    ("no thanks to the offer, proceed with the termination", True),
    ("can I undo the termination? proceed with the upgrade", False),
    ("need pac codes for all four numbers", True),
    ("texted PAC to 65075 but no code came", True),
    ("what's my transfer pin", True),
    ("what's the transfer pin for the bank app?", False),
    ("don't need the landline or broadband anymore, we have 5g now. disconnect both", True),
    ("i'm giving my 30 days notice as of today", True),
    # joining here, not leaving (leaving_steps.comes_to_us)
    ("i'm leaving vodacom and joining you, what do you need from me", False),
    ("want to terminate my old contract with sky and join you, do you cover the exit fee?", False),
    ("I want to end my contract with you", True),
])
def test_more_goodbyes_in_a_chat(text: str, found: bool) -> None:
    assert _leaves(text) is found, text


# Rules version 11: staying, re-contracting and someone else's leave (leaving_steps), from batch 16's read half
@pytest.mark.parametrize(("text", "found"), [
    ("a rival quoted me less, can you match? i'd rather stay with you", False),
    ("changed my mind about leaving, is the retention offer still on", False),
    ("rang to leave in May and stayed for the discount, it never showed on my bill", False),
    ("end my current plan and move me to the 5G unlimited one", False),
    ("can I close this contract early and start a new one with you at the lower price", False),
    ("can i undo the port out request? keeping my number here", False),
    ("how do I get a pac code from my old network to bring my number over to you", False),
    ("do you buy out contracts from other providers", False),
    ("my mate went to another provider and pays half, can you lower my bill", False),
    ("my sister wants to leave Telkom and come over to you", False),
    ("Brother please cancel my sim, I go back home next week", True),
    ("my brother and I are leaving you", True),
    ("I've changed my mind, cancel my contract", True),
    ("I want to leave, my friend went to Vodafone and pays less", True),
    ("bye forever", True),
    ("put me through to whoever handles leaving", True),
    ("which department deals with ending contracts", True),
    ("can i take my number to an mvno", True),
    ("moving my line to an account at another company, what do you need to release it?", True),
    ("can I take my number to a new phone", False),
])
def test_staying_joining_and_others_leaving(text: str, found: bool) -> None:
    assert _leaves(text) is found, text

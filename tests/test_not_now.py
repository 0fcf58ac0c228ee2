"""Rules version 11: a trouble named but not the customer's now (`signals/not_now.py`): asked about ahead, denied,
put back and told so, or told in the past in a glad text; billing troubles told as put right in more words
(`whose.over`); and a switch or a port that brings the customer to the company addressed. Each form with the
near misses it must not swallow. Sentences written by hand; none is copied from a data set."""

from __future__ import annotations

import pytest

from ticket_enricher.agents.rules.signals import detect


@pytest.mark.parametrize(("text", "signal"), [
    # asked about ahead
    ("if the ferry gets cancelled because of the storm, can we rebook for free?", "trip_disrupted"),
    ("What happens to my hotel booking if the rail strike goes ahead and trains are cancelled next week?",
     "trip_disrupted"),
    ("If the streaming app is down during the final, will you credit us?", "outage"),
    ("In case my card is blocked while I'm in Peru, who do I call?", "lockout"),
    ("can I turn on travel mode so my card doesn't get frozen overseas?", "lockout"),
    # denied
    ("the 7:40 had zero delay again this week, lovely stuff", "trip_disrupted"),
    ("Six years on this network without a single outage. Any loyalty perks?", "outage"),
    ("never once had my card declined in Japan, impressed", "lockout"),
    ("the app hasn't crashed once since the redesign", "outage"),
    ("we've had the business line two years and haven't had a single outage", "outage"),
    ("picture's crisp and zero buffering on the old telly", "outage"),
    ("the booster was worth it, no more dead zones in the kitchen", "outage"),
    # another company's
    ("my train was cancelled by a different operator so I took your coach instead, spotless", "trip_disrupted"),
    ("my colleague's flight with another airline was delayed 4 hours, we're meeting in Oslo", "trip_disrupted"),
    ("my friend's card got blocked on holiday, so I'm ringing you before my trip to ask about travel notices",
     "lockout"),
    ("if my return flight is delayed and I miss the last train, do you rebook? just checking before I book",
     "trip_disrupted"),
    # a friend's claim told to the customer (`whose.someone_elses`)
    ("my mate keeps telling me your 5G is useless in town. tested it at lunch, 300 megs", "outage"),
    ("Is there any way to turn on travel notifications on my card so it doesn't get frozen in Peru?", "lockout"),
    ("the outage status page you launched is so clear, nice work", "outage"),
    # put back and told so
    ("wifi dropped out for ten minutes at lunch but it came back by itself, no need to call", "outage"),
    ("broadband went offline last night, this morning is working great, thanks team", "outage"),
    ("the site used to crash every payday, respect to whoever fixed it", "outage"),
    ("TV box froze during the match, restarted it and everything's smooth again", "outage"),
    ("complained about the router dropping out in March, new one came next day and it's still going strong",
     "outage"),
    # past, in a glad text
    ("the power was off for a few hours on Sunday and your crew were brilliant, thank you so much", "outage"),
    # billing put right, in more words
    ("had an extra charge on my bill in May, fixed in one call, all sorted now. great service", "billing_error"),
    ("Charged twice for the same pizza but it got reversed the same day, cheers", "billing_error"),
    ("Thanks Priya for sorting the duplicate charge yesterday, much appreciated", "billing_error"),
    ("store credit came instantly and my money back same day, faultless", "escalation_refund"),
    ("got refunded within the hour for the wrong colour jumper, new one arrives Friday", "escalation_refund"),
    ("cheers for catching that dodgy charge before it went through", "billing_error"),
    # a fee asked about before buying (`money`)
    ("Is there an extra charge for a second checked bag on the Madrid route?", "billing_error"),
    ("my broadband bill hasn't gone up in three years, is that a record?", "billing_error"),
    ("loving the lounge access at no extra charge", "billing_error"),
    # the writer untouched, or work planned ahead (`whose`)
    ("Half the street says the broadband crashes every night. Mine never does, weird", "outage"),
    ("the card machine declined my card but it was their terminal, no harm done", "lockout"),
    ("is there scheduled maintenance on the network Sunday? not having issues, just planning a movie night",
     "outage"),
    # a move that brings the customer here (`leaving_steps.comes_to_us`)
    ("we're moving the whole family over to your unlimited plan next month", "escalation_switch"),
    ("switched from my old provider in March, best decision all year", "escalation_switch"),
    ("porting my number from another network was painless, thanks", "escalation_cancel"),
    # a leave nearly made (`leaving_steps.staying`)
    ("I almost quit your bank over the app outage last year but you sorted it", "escalation_cancel"),
    ("thought about switching when my deal ended but the loyalty offer was too good", "escalation_switch"),
])
def test_a_trouble_not_the_customers_now_is_no_signal(text: str, signal: str) -> None:
    assert signal not in detect(text), text


@pytest.mark.parametrize(("text", "signal"), [
    # help asked for what has happened, or a question beside a lived trouble
    ("what do I do if my flight is cancelled and I'm stuck in Denver?", "trip_disrupted"),
    ("my train was cancelled. if there's no bus, how do I get home?", "trip_disrupted"),
    ("the internet is down again, how do I fix it if the router won't reset?", "outage"),
    ("can I get a refund if my flight is cancelled?", "trip_disrupted"),
    ("am I owed anything if the flight was cancelled?", "trip_disrupted"),
    # no denial: a service that never works, a single failure counted
    ("the app never works when I need it", "outage"),
    ("my card got declined at the till", "lockout"),
    # put back but broken again, or another part that works
    ("it came back for an hour but it's down again", "outage"),
    ("the app keeps crashing when I pay. works fine for checking my balance", "outage"),
    ("the error came back after the update, site won't load", "outage"),
    ("internet went down and is still not working", "outage"),
    # a delay told gladly is most often sarcasm: trips are left to the trip rules
    ("@united flight delayed 6 hours, wow, amazing service as always", "trip_disrupted"),
    # a past failure with something live, or no gladness
    ("the app crashed yesterday and I still can't log in", "outage"),
    ("the internet went down last night and nobody told us anything", "outage"),
    # money not yet back: a reversal asked for, or a refund taken back
    ("I would like the double charge reversed please", "billing_error"),
    ("you charged me twice and it's still not sorted now", "billing_error"),
    ("I want my money back same day, not in 10 working days", "escalation_refund"),
    ("you refunded the wrong amount, I paid 80 not 50", "escalation_refund"),
    ("is there an extra charge on my statement? I see 4.99 I never agreed to", "billing_error"),
    ("why is there an extra charge on my bill?", "billing_error"),
    ("my internet is down. no more excuses, fix it", "outage"),
    ("my flight got cancelled and you rebooked me onto another airline two days later", "trip_disrupted"),
    ("my mom's internet is down again and I can't work from hers", "outage"),
    ("my wife keeps telling me the wifi is down again", "outage"),
    ("my friend told me my card was blocked, is that right?", "lockout"),
    ("the outage status page says all fine but my internet is down", "outage"),
    ("the router is going strong but the line keeps dropping out", "outage"),
    ("why has my bill gone up again", "billing_error"),
    ("considered leaving for months. today I'm done, cancel my account", "escalation_cancel"),
    # moves away, even past a word of the company's
    ("I'm switching to your competitor, they're half the price", "escalation_switch"),
    ("switching to Vodafone next month, your network is a joke", "escalation_switch"),
    ("I want to port my number to Three", "escalation_cancel"),
])
def test_a_trouble_still_lived_keeps_its_signal(text: str, signal: str) -> None:
    assert signal in detect(text), text

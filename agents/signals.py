"""Deterministic reading of customer text: which signals it carries, and the words that showed each.

Written for how customers write to support desks, consumer and business alike (tweets, chats, emails): leave
intent in everyday words, competitors, failures of service (outages, lockouts, disrupted trips, lost parcels,
wrong charges), repeats counted in numbers, no resolution, and anger, including anger that no listed word
carries (VADER's sentiment, capitals, profanity). Text is normalised first (`agents.language`), so curly
apostrophes and HTML entities match like plain ones; patterns allow inflections; a phrase under negation
("not looking for a refund", "never had a problem") does not count. Patterns stay plain so that an operator can
read why a tag was set.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Literal

from agents.language import Text, read_text

Signal = Literal[
    "outage", "lockout", "trip_disrupted", "delivery_failure", "data_loss", "billing_error", "security",
    "escalation_cancel", "escalation_refund", "escalation_switch", "escalation_legal", "repeat_contact",
    "unresolved", "hostility", "anger", "frustration", "satisfied",
]

FAILURE: frozenset[str] = frozenset(
    {"outage", "lockout", "trip_disrupted", "delivery_failure", "data_loss", "billing_error", "security"})
ONE_OFF: frozenset[str] = frozenset({"outage", "lockout"})  # serious only when unresolved (see agents.rules)
LEAVE: frozenset[str] = frozenset({"escalation_cancel", "escalation_switch"})
ESCALATION: frozenset[str] = frozenset(
    {"escalation_cancel", "escalation_refund", "escalation_switch", "escalation_legal", "repeat_contact"})
PRESSURE: frozenset[str] = frozenset({"repeat_contact", "unresolved", "hostility", "anger", "frustration"})
NEGATIVE: frozenset[str] = FAILURE | ESCALATION | PRESSURE

_NUM = r"(?:\d+|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|several|multiple|many|countless|numerous|a dozen|dozens of)"
_ORD = r"(?:\d+(?:st|nd|rd|th)|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|umpteenth|nth)"
_SERVICE = (r"(?:app|apps|website|web ?site|site|internet|wi-?fi|broadband|service|network|connection|signal|data"
            r"|servers?|tv|cable|channels?|stream|streaming|log ?in|online ordering|ordering|checkout|portal"
            r"|dashboard|api|system|platform|live chat|phone line|line|email|e-mail|psn|xbox live)")
_MONEY_NOUN = r"(?:fees?|charges?|prices?|pricing|bills?|rates?)"
_NOT_A_PLAN = r"(?! (?:my |the |this |an? )?(?:order|ride|trip|flight|booking|reservation|appointment|delivery|request))"


def _p(*alternatives: str) -> re.Pattern[str]:
    return re.compile(r"(?:" + "|".join(alternatives) + r")")  # text is case-folded: re.I would cost 3x


# signal -> (pattern, whether a negation just before the phrase cancels it)
_PATTERNS: dict[str, list[tuple[re.Pattern[str], bool]]] = {
    "escalation_cancel": [
        (_p(r"\b(?:cancel+(?:ed|ing)?|clos(?:e|ed|ing)|terminat(?:e|ed|ing)|end(?:ed|ing)?|quit(?:ting)?|"
            r"drop(?:ped|ping)?|leav(?:e|ing)|left) (?:all of |my |our |the |your |this )?(?:\w+ )?"
            r"(?:service|services|subscription|subscriptions|account|accounts|membership|contract|plan|policy"
            r"|line|lines|internet|cable|prime)\b"), True),
        (_p(r"\b(?:we are|we're|i am|i'm|we will be|i will be) (?:cancel+ing|leaving|closing (?:it|our|my))\b" + _NOT_A_PLAN,
            r"\b(?:want|wanted|trying|tried|going|need|needed|have|had|time|ready|about) to cancel\b" + _NOT_A_PLAN,
            r"\bhow (?:do|can) i cancel\b" + _NOT_A_PLAN), True),
        (_p(r"\b(?:i'll|i will|we'll|we will|i am|i'm|we are|we're) never (?:going|gonna|be|use|fly|buy|shop|order|"
            r"come|return|recommend|book|stay|eat|deal|trust|renew|again)\b", r"\bnever again\b",
            r"\bnever (?:going|gonna|coming|fly(?:ing)?|buy(?:ing)?|shop(?:ping)?|order(?:ing)?|us(?:e|ing)|"
            r"eat(?:ing)?|stay(?:ing)?|book(?:ing)?|recommend\w*|be back|go(?:ing)? back|return\w*|renew\w*|"
            r"trust\w*|deal(?:ing)? with)\b"), False),
        (_p(r"\b(?:won't|wont|will not|not going to|no longer|(?:i'm|i am|we're|we are) not) (?:be )?(?:renew\w*|return\w*|be back|"
            r"com(?:e|ing) back|use (?:you|your|it|this|them) again|fly(?:ing)? (?:with )?(?:you|again)|"
            r"recommend\w*|be (?:a |your )?customer|do(?:ing)? business)\b"), False),
        (_p(r"\b(?:lost|losing|lose) (?:me|us|my business|our business|my custom|(?:a|this|another|one|your)? ?"
            r"(?:\w+ )?(?:customer|customers|client|clients)|\d+ (?:rides|customers|sales|orders|bookings))\b"),
         False),
        (_p(r"\b(?:take|taking|took) (?:my|our) (?:business|money|custom) (?:elsewhere|somewhere else)\b",
            r"\bdone with (?:you|your|@\w+)\b", r"\bfrom now on\b", r"\bgoodbye @\w+", r"\bshred (?:the|my)\b",
            r"\bcut up (?:my|the) card\b", r"\b(?:delet(?:e|ed|ing)|uninstall\w*) (?:the |your |this )?app\b",
            r"\bunsubscrib\w*", r"\bport(?:ing)? (?:my number|out)\b", r"#\w*boycott\w*", r"\bboycott\w*",
            r"\bjam[aá]s volver\w*", r"\bnunca m[aá]s\b"), True),
    ],
    "escalation_switch": [
        (_p(r"\b(?:switch(?:ing)?|mov(?:e|ing)|chang(?:e|ing)|port(?:ing)?|jump(?:ing)? ship|leav(?:e|ing) you)"
            r"(?: over)? (?:to|for) (?:@\w+|another|a different|a new|other|a competitor|a rival|\w+ instead)",
            r"\b(?:switch\w*|chang\w*|look\w*(?: around)? for|shop\w*(?: around)? for|find(?:ing)?|get(?:ting)?)"
            r" (?:a |an )?(?:new|another|different|better|other) (?:\w+ ){0,3}?(?:provider|carrier|company|bank"
            r"|airline|isp|phone|service|network|brand|plan|supplier|vendor)s?\b",
            r"\b(?:considering|thinking (?:about|of)|might|going to|gonna|about to|time to|ready to|tempted to)"
            r"\b[^.!?]{0,20}\b(?:switch\w*|leav(?:e|ing)|getting a new (?:kind of )?(?:phone|provider|carrier)|"
            r"go(?:ing)? elsewhere|jump(?:ing)? ship)\b",
            r"\b(?:wish|should)(?: i| we)?(?: had|'d| have|'ve)? (?:used|gone with|chosen|stayed with|picked|"
            r"booked with|flown with|bought from|gone to)\b",
            r"#\w+instead\b", r"\b(?:use|used|using|fly|flying|go with|going with|try|trying|order from|"
            r"ordering from|buy from|stick with|sticking with) @\w+ instead\b",
            r"\blos(?:e|ing) out to\b", r"\bcompetitors?\b", r"\b(?:look\w* (?:at|into)|consider\w*|evaluat\w*|"
            r"go(?:ing)? with|try(?:ing)?|talk\w* to) other (?:vendors|providers|carriers|banks|airlines|companies)\b"),
         True),
    ],
    "escalation_legal": [  # a threat, not a mention: "my lawyer", "will sue", "report you to the FCC"
        (_p(r"\b(?:will|going to|gonna|i'll|considering|seek\w*|contact\w*|hir(?:e|ed|ing)|consult\w*|speak\w* "
            r"(?:to|with)|talk\w* to|get(?:ting)?|got|call\w*|forward\w* (?:this |it )?to|involv\w*) (?:a |my |our |an |"
            r"the )?(?:lawyers?|attorneys?|legal (?:action|advice|team|department)|solicitors?|class action)",
            r"\b(?:my|our) (?:lawyers?|attorneys?|solicitors?|legal (?:team|department|counsel))\b", r"\b(?:sue|suing) (?:you|them|@\w+|the company)\b",
            r"\bfil(?:e|ing) (?:a )?(?:lawsuit|claim in small claims|class action)\b", r"\bsmall claims court\b",
            r"\b(?:go|going|take (?:you|them|this|it|@\w+)|taking (?:you|them|this|it|@\w+)|see you) (?:to |in )court\b",
            r"\breport(?:ing|ed)? (?:you |this |them |it )?to (?:the )?(?:bbb|better business bureau|fcc|ftc|cfpb|"
            r"ombudsman|trading standards|attorney general|regulator)\b"), True),
    ],
    "escalation_refund": [  # money sought back; a refund not granted ("still not reimbursed") is sought too
        (_p(r"\b(?:still not|not yet|yet to be|haven't been|hasn't been|have not been|has not been|wasn't|weren't|"
            r"never been|never got|still haven't been)(?: yet| even)? (?:refunded|reimbursed|compensated|credited)\b"),
         False),
        (_p(r"\b(?:refund\w*|money back|my \$?\d+ back|reimburs\w*|compensat\w*|reversal|chargeback|"
            r"reverse (?:the|this|my|it|that) ?(?:charge|transaction|payment)?|"
            r"(?:need|want|expect|owed|deserve|see about being) (?:a |my |the )?(?:\$?\d+ )?credit\w*|"
            r"credit(?:ed)? (?:back|to my account)|(?:will|can) you pay (?:me|for)|"
            r"(?:can|could|may) i (?:return|get my money)|(?:my|our|a) (?:\w+ )?claim\b)"), True),
    ],
    "billing_error": [
        (_p(r"\b(?:double[- ]charg\w*|overcharg\w*|over-charg\w*|wrongly charged|false charges?|"
            r"unauthori[sz]ed (?:charges?|transactions?|payments?|purchases?|debits?)|fraudulent (?:charges?|"
            r"transactions?|purchases?)|hidden (?:fees?|charges?)|billing (?:error|mistake)|"
            r"(?:wrong|incorrect) (?:amount|bill|invoice|price|charge)s?|charged (?:me |us |my (?:\w+ ){0,2}(?:card|"
            r"account) )?(?:twice|two times|"
            r"double|again|extra|more)|charg(?:ed|ing) (?:me |us )?for (?:\w+ ){0,3}(?:i|we) (?:never|didn't|did "
            r"not|don't|haven't)|charged (?:me |us )?after (?:i |we )?cancel\w*)"), True),
        (_p(r"\b(?:ridiculous|excessive|outrageous|crazy|insane|absurd|unfair|extortionate|bogus|junk|stupid|"
            r"amount of) " + _MONEY_NOUN + r"\b",
            r"\b(?:steal(?:ing)?|stole|robb(?:ing|ed|ery)|rob(?:ando|aron)|ripp?(?:ed|ing)? (?:me |us )?off|"
            r"rip-?off|dupe|duping|taking (?:my|our) money|deduct(?:ed|ion|ions|ing))\b",
            r"\b(?:being|been|keep|keeps|still|was|were|got|get) (?:getting )?(?:charged|billed)\b",
            r"\b(?:you're|youre|you are|they're|they are) (?:\w+ )?charging\b",
            r"\b(?:charged|billed) (?:me |us )?(?:a |an )?(?:\$|£|€)?\d+",
            r"\b(?:charged|billed) (?:me |us )?(?:a |an |the )?(?:\w+ )?(?:fee|charge|penalty)\b",
            r"\bwhy (?:was|were|am|are|did|have|has|is) (?:i|we|you|it) (?:been |being )?(?:charg|bill)\w*",
            r"\b(?:credit|refund|money|payment|deposit)s? (?:is |has |have |was )?(?:still )?(?:not|never) (?:showing|shown"
            r"|received|arrived|credited|processed|come back|returned)\b",
            r"\bmade (?:me|us) pay\b", r"\b(?:never|didn'?t|did not) (?:subscrib|sign(?:ed)? up|authori[sz])\w*",
            r"\b(?:cost|costed|costs) (?:me|us) (?:more than |over |about )?(?:rs\.? ?|\$|£|€)?\d+", r"\bwhy should (?:i|we) pay\b", r"\bdisput\w*",
            r"\b(?:already )?paid (?:for )?[^.!?]{0,40}\b(?:not|never|without|didn't)\b",
            r"\bpaid for\b[^.!?]{0,40}\bnot (?:provid|deliver|receiv)\w*",
            r"\b(?:not|never) (?:providing|provided|delivering) the services?\b"), True),
    ],
    "security": [
        (_p(r"\b(?:hack(?:ed|er|ers|ing)?|compromised|breach(?:ed)?|phishing|fraud(?:ulent|ster|sters)?|"
            r"identity theft|stolen (?:card|identity|account|details|data)|unauthori[sz]ed (?:access|log ?ins?|"
            r"sign ?ins?|use|activity)|suspicious (?:log ?ins?|sign ?ins?|activity|emails?|texts?|calls?)|"
            r"security (?:issue|incident|hole|problem|breach|concern|flaw)s?|someone (?:logged|got|has) (?:in ?to|"
            r"access to) my account|two[- ]step verification|scam (?:calls?|emails?|texts?))\b"), True),
    ],
    "lockout": [
        (_p(r"\b(?:locked out|lock(?:ed)? (?:me|us) out|logged (?:me|us) out|account (?:is |was |has been |got )?"
            r"(?:locked|suspended|disabled|blocked|frozen|deactivated)|(?:can't|cannot|cant|unable to|couldn't|"
            r"won't let me) (?:log ?in|sign ?in|get into (?:my|the) account|access (?:my|the) account)|"
            r"(?:blocked|froze|frozen|declined|suspended) (?:my )?(?:card|account|payment)|"
            r"(?:card|account|payment) (?:was |is |has been |got |keeps getting )?(?:blocked|frozen|declined|"
            r"suspended)|(?:nobody|no one|none of us) (?:can|could|is able to) (?:log ?in|sign ?in|access)|password (?:is |keeps |still )?(?:says )?(?:incorrect|wrong|not working|rejected)|"
            r"(?:still |it )?says (?:it's |my password is )?incorrect)\b"), True),
    ],
    "trip_disrupted": [
        (_p(r"\b(?:flights?|trains?|bus|buses|plane|planes|boarding)\b[^.!?]{0,25}\b(?:delayed|cancell?ed|"
            r"diverted|stuck|stranded|late)\b",
            r"\b(?:delayed|cancell?ed|cancel+ing|diverted) (?:my |our |the )?(?:\w+ )?(?:flight|flights|train|trains)\b",
            r"\bno trains?\b", r"\bstuck (?:on|outside|at|in) (?:the )?(?:train|plane|tarmac|station|airport|"
            r"runway)\b", r"\bstranded\b", r"\b(?:didn't|did not|didnt|wouldn't|would not|not) (?:let (?:us|me) )?"
            r"board (?:us|me)?\b", r"\b(?:denied|refused) boarding\b", r"\bbumped (?:me |us )?(?:from|off)\b",
            r"\bmissed (?:my |our )?connect\w*"), True),
    ],
    "outage": [
        (_p(r"\b(?:outages?|service disruption|downtime|down time)\b",
            r"\b" + _SERVICE + r"\b[^.!?]{0,30}?\b(?:is|are|was|were|been|went|goes|keeps going|being) "
            r"(?:down|offline|out)\b",
            r"\b(?:is|are|was|were|been|went|goes) (?:constantly |always |still |completely |totally |all )?"
            r"(?:down|offline)\b(?! to| for| with| the| by| in| there| here| on)",
            r"\b(?:constant|ongoing|persistent|recurring) (?:issues|problems|errors|outages|crashes)\b",
            r"\b" + _SERVICE + r"\b[^.!?]{0,20}?\b(?:failing|erroring|broken)\b",
            r"\b" + _SERVICE + r"\b[^.!?]{0,30}?\b(?:not|n't|never|isn't|doesn't|won't|wont|dont|doesnt|isnt|"
            r"stopped|keeps not) ?(?:working|work|loading|load|connecting|responding|opening)\b",
            r"\b(?:no|lost(?: my| our| the)?|without|zero) (?:home |mobile |cell |phone )?(?:internet|wi-?fi|signal|service|connection|network|data|"
            r"cable|tv|reception|phone service|online orders?|online ordering)\b",
            r"\b(?:can't|cannot|cant|unable to|couldn't|won't let me|wont let me) (?:connect|get online|"
            r"get on(?:to)? the (?:site|website|app)|load|stream|play|order|watch|download|use (?:my|her|his|our|the|"
            r"their) (?:phone|line|service|internet|wi-?fi|tv|app))\b",
            r"\b(?:error (?:code|message)s?|an error (?:occurred|message)|error (?:when|while|playing|loading)|"
            r"(?:network|communication|server|connection) error|[45]\d\d errors?|error \d{2,})\b",
            r"\b(?:app|game|site|website|stream|server|system|tv|channel)s? (?:keeps |kept )?(?:crash\w*|"
            r"freez\w*|buffer\w*)\b", r"\bkeeps? (?:crashing|freezing|dropping|disconnecting|buffering)\b",
            r"\b(?:losing|lost|dropping|drops|dropped) (?:the |my )?(?:connection|signal|service|internet|wi-?fi)\b",
            r"\bon and off\b", r"\b(?:overloaded|won't load|wont load|not loading|isn't loading|can't load)\b",
            r"\b(?:service|site|website|app|server|network)s? (?:is |are |was |currently )?(?:unavailable|"
            r"unreachable)\b", r"\btrouble (?:connecting|with (?:my|the|their|your)? ?(?:\w+ ){0,2}?(?:network|"
            r"internet|connection|service|wi-?fi|signal))\b"), True),
    ],
    "delivery_failure": [
        (_p(r"\b(?:not|never|hasn't|has not|haven't|have not|didn't|did not|still not|yet to)(?: been| yet)? "
            r"(?:arrived|arrive|delivered|received|receive|come|came|shown up|turned up|show up)\b",
            r"\b(?:lost|missing|misplaced|damaged|wrong) (?:my |our |the )?(?:bags?|luggage|suitcase|parcels?|"
            r"packages?|order|items?|delivery)\b",
            r"\b(?:bags?|luggage|parcels?|packages?|order|delivery|item)s? (?:is |was |were |are |got |has been |"
            r"have been )?(?:lost|missing|damaged|never (?:arrived|came|showed up))\b",
            r"\bwhere(?:'s| is) my (?:order|package|parcel|delivery|bags?|luggage)\b", r"\bour bags\b",
            r"\b(?:order|delivery) (?:was )?wrong\b"), True),
    ],
    "data_loss": [
        (_p(r"\b(?:data loss|lost (?:all )?(?:of )?(?:my |our |the )?(?:data|records|files|history|photos|contacts|"
            r"progress|saves?|save data|save files?)|(?:data|records|files|photos|saves?|save data|progress|"
            r"history) (?:were |was |are |is |got |have been |has been )?(?:deleted|wiped|gone|missing|lost|"
            r"erased|corrupted)|disappeared|(?:drop|drops|dropped|dropping|los(?:es|ing)) (?:\w+ )?(?:records|rows|"
            r"entries|files|data))\b"), True),
    ],
    "repeat_contact": [
        (_p(r"\b" + _NUM + r" (?:different |separate |more |other )?(?:times|calls|emails|e-mails|messages|dms|"
            r"tweets|attempts|tries|phone calls|chats|agents|reps|notices|complaints)\b",
            r"\b" + _ORD + r" (?:\w+ )?(?:time|notice|call|email|message|attempt|request|complaint|outage|failure|"
            r"problem|issue|incident|delay|cancellation)\b",
            r"\b(?:again and again|yet again|once again|over and over|time after time|every (?:single )?time|"
            r"all the time|every (?:day|night|morning|week|month)|everyday|constantly|repeatedly|keeps? (?:happening|saying|failing|dropping|crashing|losing|"
            r"breaking|getting|defaulting)|kept (?:happening|saying|failing|defaulting))\b",
            r"\b(?:happen\w*|messed up|did it|doing it|broke|broken|down|charg\w*|billed|fees?|late|delayed|wrong|"
            r"fail\w*|crash\w*|lost|missing|throttl\w*|cancel\w*)\b[^.!?,]{0,20}\bagain\b",
            r"\bstill (?:not|no|nothing|isn't|hasn't|haven't|hasnt|havent|doesn't|doesnt|won't|can't|cannot|"
            r"having|broken|down|the same|same|says|getting|unresolved|a problem|an issue|happening)\b",
            ), False),
    ],
    "unresolved": [
        (_p(r"\b(?:no|zero|without any?) (?:response|reply|replies|answer|answers|solution|resolution|"
            r"update|updates|call ?back|follow[- ]?up|luck|dice)\b",
            r"\b(?:nobody|no one|noone) (?:has |is |was |will )?(?:answer\w*|respond\w*|repl\w*|call\w*|help\w*|"
            r"cares?|got back)\b",
            r"\b(?:did not|didn't|didnt|never|haven't|hasn't|doesn't|don't) (?:even )?(?:answer|respond|reply|"
            r"call (?:me |us )?back|get back|hear back|heard back|follow up|resolve|fix)\w*\b",
            r"\b(?:ignor(?:e|ed|es|ing)|on hold|been waiting|still waiting|waiting (?:for|on) (?:\w+ ){0,4}?"
            r"(?:days|weeks|months|hours|a year|reply|response|refund|compensation))\b",
            r"\bescalat\w* (?:this |it )?(?:to|with) (?:our |your |the |a )?(?:cto|ceo|management|manager|supervisor|"
            r"executive|leadership|director)",
            r"\b(?:den(?:ied|ies|y)|refus(?:ed|es)|reject(?:ed|s)|turned down) (?:me |us |you )?(?:a |my |the |our )?"
            r"(?:refund|claim|compensation|request|appeal|credit)\b", r"\bnot entitled\b",
            r"\b(?:useless|pointless|to no avail|waste of (?:my )?time|run ?around|hung up on|no help|not helpful|"
            r"unhelpful)\b",
            ), False),
    ],
    "satisfied": [
        (_p(r"\b(?:thanks?|thank you|thx|thankx|ty|cheers|appreciate\w*|works now|working now|sorted|fixed|"
            r"resolved|solved|all good|no worries|great (?:help|service|support)|(?:you're|you are) (?:the best|"
            r"awesome|great|amazing)|love (?:you|it|this)|got it|found it)\b"), True),
    ],
}
# condemnation of the company or its service: anger; two or more of them (or one with very negative
# sentiment) in one message: hostility. Expletives, mild words, angry emoji and shouting: frustration.
_CONDEMN = _p(r"\b(?:suck|sucks|sucked|trash|garbage|rubbish|crooks?|liars?|lying|thieves|thief|scam\w*|rip-?off|"
              r"disgust\w*|disgrac\w*|despicable|pathetic|shameful|shame on|ashamed|appall\w*|outrag\w*|furious|"
              r"livid|fuming|horrible|horrendous|atrocious|worst|unacceptable|incompet\w*|criminal|robbing|"
              r"stealing|(?<!identity )theft|unethical|rude|rudest|idiots?|morons?|clowns?|bitch\w*|dupe|hate you|hate this)\b",
              r"#\w*(?:sucks|boycott\w*|worst\w*)\b", "\U0001f92c", "\U0001f595", "\U0001f621")
_DISTRESS = _p(r"\b(?:made me cry|crying|in tears|nearly died|almost died|could have died|terrified|humiliat\w*|"
               r"traumati\w*|desperate|begging|suffering)\b")
_MILD = _p(r"\b(?:fuck\w*|shit\w*|bullshit|bs|crap|wtf|tf|damn|frustrat\w*|annoy\w*|disappoint\w*|fed up|sick of|"
           r"tired of|upset|angry|mad|terrible|awful|ridiculous|joke|unbelievable|poor|bad|ugh|smh|fml|come on)\b",
           r"#\w*fail\b", "\U0001f624", "\U0001f620", "\U0001f612", "\U0001f926", "\U0001f644")


# what, just before a phrase, says it does not count: money back already granted, or a routine question
_UNLESS: dict[str, re.Pattern[str]] = {
    "escalation_refund": _p(r"\b(?:received|got|getting|been|was|were|already|issued|processed|gave me|given)"
                            r"(?: me)?(?: a| my| the| your)?(?: full| partial)? $",
                            r"\bhow (?:long|soon|do i|does|can i|to)\b[^.!?]*$", r"\b(?:status|track\w*) of (?:my |the )?$"),
}


def _first(text: Text, pattern: re.Pattern[str], negatable: bool, unless: re.Pattern[str] | None = None) -> str | None:
    for match in pattern.finditer(text.lower):
        if negatable and text.negated(match.start()):
            continue
        if unless is not None and unless.search(text.lower[max(0, match.start() - 50):match.start()]):
            continue
        return text.quote(match.start(), match.end())
    return None


def _mood(text: Text) -> dict[Signal, str]:
    """Hostility (several condemnations, or one with very negative sentiment), anger (a condemnation, distress,
    shouting, "!!" in a negative message, very negative sentiment), or frustration (expletives, mild words,
    angry emoji, negative sentiment)."""
    condemned = list(dict.fromkeys(m.group(0) for m in _CONDEMN.finditer(text.lower)
                                   if not text.negated(m.start())))
    if len(condemned) >= 2 or condemned and text.maybe_negative and text.compound <= -0.75:
        return {"hostility": ", ".join(condemned[:3])}
    negative = text.maybe_negative and (text.shouting or "!!" in text.original) and text.compound <= -0.3
    shouting, exclaiming = negative and text.shouting, negative and "!!" in text.original
    distress = _first(text, _DISTRESS, True)
    if condemned or distress or shouting or exclaiming:
        return {"anger": (condemned[0] if condemned else distress or " ".join(text.shouted[:3])
                          or ", ".join(text.negative_words) or text.original[:60])}
    mild = _first(text, _MILD, True)
    # VADER alone, however negative ("broken", "failed"), says frustration, never more
    if mild or text.maybe_negative and (text.compound <= -0.4 or "!!" in text.original and text.compound <= 0):
        return {"frustration": mild or ", ".join(text.negative_words) or text.original[:60]}
    return {}


_RESOLVED = _p(r"\b(?:works now|working now|sorted|fixed|resolved|solved|all good|got it|found it)\b")


def detect(raw: str) -> dict[Signal, str]:
    """Each signal found in `raw`, with a short quote that showed it."""
    return dict(_detect(raw))


@lru_cache(maxsize=4096)
def _detect(raw: str) -> dict[Signal, str]:
    """Cached: the rules model reads each event's text twice (its note, then its tag plan)."""
    text = read_text(raw)
    found: dict[Signal, str] = {}
    for signal, patterns in _PATTERNS.items():
        for pattern, negatable in patterns:
            quote = _first(text, pattern, negatable, _UNLESS.get(signal))
            if quote is not None:
                found[signal] = quote  # type: ignore[index]
                break
    found |= _mood(text)
    resolved = _RESOLVED.search(text.lower) is not None
    if "satisfied" in found and (text.compound < (0.2 if resolved else 0.4)
                                 or found.keys() & (NEGATIVE - {"repeat_contact"})):
        del found["satisfied"]
    return found

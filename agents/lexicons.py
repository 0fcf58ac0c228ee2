"""The lexicons the rules model reads customer text with (`agents.signals` applies them).

Each signal has a list of (pattern, negatable, unless): a pattern of phrases, whether a negation just before a
phrase cancels it ("not looking for a refund"), and what, in the 50 characters before it, says it does not
count (a refund already granted; a device rather than a service: "my keyboard is not working"). Patterns match
the normalised, case-folded text of `agents.language`, so they are written in lower case and ASCII quotes;
inflections are spelled out (`cancel+(?:ed|ing)?`), and repeats are counted in numbers.
"""

from __future__ import annotations

import re

_NUM = (r"(?:\d+|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|several|multiple|many|countless|"
        r"numerous|a dozen|dozens of)")
_ORD = r"(?:\d+(?:st|nd|rd|th)|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|umpteenth|nth)"
_SERVICE = (r"(?:app|apps|website|web ?site|site|internet|wi-?fi|broadband|service|network|connection|signal|data"
            r"|servers?|tv|cable|channels?|stream|streaming|log ?in|online ordering|ordering|checkout|portal"
            r"|dashboard|api|system|platform|live chat|phone line|line|email|e-mail|psn|xbox live)")
_MONEY_NOUN = r"(?:fees?|charges?|prices?|pricing|bills?|rates?)"
# a device or a code, not a service: "my keyboard is not working" is a bug, not an outage (as the labels define)
_DEVICE = (r"(?:\b(?:button|battery|keyboard|screen|camera|charger|charging|headphones|earbuds|airpods|speaker|mic|"
           r"microphone|autocorrect|alarm|volume|printer|remote|bluetooth|iphone|ipad|laptop|macbook|phone|touch ?id|"
           r"face ?id|code|coupon|voucher|promo|driver|car|door|fridge|software|update|ios|android|firmware)\b"
           r"[^.!?;,]*|\b(?:billing|human|spelling|typing|user) )$")
_PERSON = r"\b(?:i|i'm|i am|i do|we|we're|we are|we do|he|she|he's|she's|they|they're|who|people)(?: \w+)? $"
_MONEY = (r"(?:refund\w*|reimburs\w*|compensat\w*|charg(?:e|es|ed|ing)|overcharg\w*|fees?|bill(?:s|ed|ing)?|invoic\w*|"
          r"pric(?:e|es|ing)|paid|pay(?:ing|ment|ments)?|deduct\w*|debit(?:ed)?|money|funds|(?:\$|£|€) ?\d+|"
          r"\d+(?:\.\d\d)? ?(?:dollars|pounds|euros|bucks|usd|gbp))")
_DISPUTE = (r"(?:why|wrong\w*|twice|double|without (?:my )?(?:consent|permission|asking|notice)|unauthori[sz]ed|false|"
            r"incorrect\w*|extra|more than|instead of|ridiculous|outrageous|absurd|scam\w*|steal\w*|stole|rob\w*|"
            r"ripp?(?:ed|ing)? off|revers\w*|disput\w*|not (?:fair|right|ok|okay)|unfair|hidden|mistake\w*|"
            r"keeps? charging|shouldn'?t|should not|supposed to|promised|cancel\w*|owe\w*)")
_ROUTINE = (r"\b(?:how (?:long|soon|do i|does|can i|to)|when (?:will|do|does|can)|is there a way|can you tell me|"
            r"thanks?|thank you|got|received)\b[^.!?]*$")
_TRIP = r"(?:flights?|trains?|bus|buses|plane|planes|gate|boarding|departure|tarmac|airport|station|connecting)"
_TRIP_TROUBLE = r"(?:delay(?:ed|s)?|cancell?(?:ed|ation|ations)|diverted|grounded|overbooked|stranded|stuck|late)"
_NOT_A_PLAN = (r"(?! (?:my |the |this |an? )?(?:order|ride|trip|flight|booking|reservation|appointment|delivery|"
               r"request))")


def p(*alternatives: str) -> re.Pattern[str]:
    """One pattern of phrases. The text is case-folded, so no re.I (3x slower); and the word boundary that most
    phrases start with is taken out in front of them, which lets the regex engine skip to where one of their
    first letters stands instead of trying every phrase at every position (10x on short texts)."""
    bounded = [a[2:] for a in alternatives if a.startswith(r"\b")]
    rest = [a for a in alternatives if not a.startswith(r"\b")]
    parts = ([r"\b(?:" + "|".join(bounded) + ")"] if bounded else []) + rest
    return re.compile(r"(?:" + "|".join(parts) + r")")


# signal -> [(pattern, whether a negation just before the phrase cancels it[, what before it says it does not
# count, instead of UNLESS[signal]])]
PATTERNS: dict[str, list[tuple[re.Pattern[str], bool] | tuple[re.Pattern[str], bool, re.Pattern[str]]]] = {
    "escalation_cancel": [
        (p(r"\b(?:cancel+(?:ed|ing)?|clos(?:e|ed|ing)|terminat(?:e|ed|ing)|end(?:ed|ing)?|quit(?:ting)?|"
            r"drop(?:ped|ping)?|leav(?:e|ing)|left) (?:all of |my |our |the |your |this )?(?:\w+ )?"
            r"(?:service|services|subscription|subscriptions|account|accounts|membership|contract|plan|policy"
            r"|line|lines|internet|cable|prime)\b"), True),
        (p(r"\b(?:we are|we're|i am|i'm|we will be|i will be) (?:cancel+ing|leaving|closing (?:it|our|my))\b"
           + _NOT_A_PLAN,
            r"\b(?:want|wanted|trying|tried|going|need|needed|have|had|time|ready|about) to cancel\b" + _NOT_A_PLAN,
            r"\bhow (?:do|can) i cancel\b" + _NOT_A_PLAN), True),
        (p(r"\b(?:i'll|i will|we'll|we will|i am|i'm|we are|we're) never (?:going|gonna|be|use|fly|buy|shop|order|"
            r"come|return|recommend|book|stay|eat|deal|trust|renew|again)\b", r"\bnever again\b",
            r"\bnever (?:going|gonna|coming|fly(?:ing)?|buy(?:ing)?|shop(?:ping)?|order(?:ing)?|us(?:e|ing)|"
            r"eat(?:ing)?|stay(?:ing)?|book(?:ing)?|recommend\w*|be back|go(?:ing)? back|return\w*|renew\w*|"
            r"trust\w*|deal(?:ing)? with)\b"), False),
        (p(r"\b(?:won't|wont|will not|not going to|no longer|(?:i'm|i am|we're|we are) not) (?:be )?(?:renew\w*|"
            r"return\w*|be back|com(?:e|ing) back|use (?:you|your|it|this|them) again|"
            r"fly(?:ing)? (?:with )?(?:you|again)|"
            r"recommend\w*|be (?:a |your )?customer|do(?:ing)? business)\b"), False),
        (p(r"\b(?:lost|losing|lose) (?:me|us|my business|our business|my custom|(?:a|this|another|one|your)? ?"
            r"(?:\w+ )?(?:customer|customers|client|clients)|\d+ (?:rides|customers|sales|orders|bookings))\b"),
         False),
        (p(r"\b(?:take|taking|took) (?:my|our) (?:business|money|custom) (?:elsewhere|somewhere else)\b",
            r"\bdone with (?:you|your|@\w+)\b", r"\bfrom now on\b", r"\bgoodbye @\w+", r"\bshred (?:the|my)\b",
            r"\bcut up (?:my|the) card\b", r"\b(?:delet(?:e|ed|ing)|uninstall\w*) (?:the |your |this )?app\b",
            r"\bunsubscrib\w*", r"\bport(?:ing)? (?:my number|out)\b", r"#\w*boycott\w*", r"\bboycott\w*",
            r"\bjam[aá]s volver\w*", r"\bnunca m[aá]s\b"), True),
        (p(r"\bgo(?:ing)? back to @\w+", r"\bleav(?:e|ing) @\w+",
           r"\b(?:last|final) time (?:i|we)(?:'ll| will)? (?:use|fly|order|buy|shop|book|stay|eat|deal)\b",
           r"\b(?:go|going|shop|shopping|take|taking|look|looking|fly|flying|order|ordering|spend|spending|move|"
           r"moving)\w* (?:\w+ )?elsewhere\b", r"\b(?:not worth (?:it|the money|paying)|waste of money|"
           r"what am i paying for)\b", r"\b(?:stay away from|avoid (?:at all costs|this (?:company|airline|place|"
           r"bank|store|app))|(?:do not|don't|would not|wouldn't|won't|never|can't|cannot) recommend)\b",
           r"\bregret (?:buying|switching|choosing|ordering|booking|signing|joining|using|ever)\b",
           r"\bbiggest mistake\b", r"\b(?:give|giving|gave) up on (?:you|@\w+|your)\b",
           r"\b(?:i'm|i am|we're|we are) (?:so |officially |completely )?done(?: with (?:you|@\w+|your|this "
           r"(?:company|service|airline|bank|app))|[.!]|$)", r"\bcancel+(?:ed|ing)? (?:everything|it all)\b"), False),
    ],
    "escalation_switch": [
        (p(r"\b(?:switch(?:ing)?|mov(?:e|ing)|chang(?:e|ing)|port(?:ing)?|jump(?:ing)? ship|leav(?:e|ing) you)"
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
        (p(r"\b(?:will|going to|gonna|i'll|considering|seek\w*|contact\w*|hir(?:e|ed|ing)|consult\w*|speak\w* "
            r"(?:to|with)|talk\w* to|get(?:ting)?|got|call\w*|forward\w* (?:this |it )?to|involv\w*) "
            r"(?:a |my |our |an |"
            r"the )?(?:lawyers?|attorneys?|legal (?:action|advice|team|department)|solicitors?|class action)",
            r"\b(?:my|our) (?:lawyers?|attorneys?|solicitors?|legal (?:team|department|counsel))\b",
            r"\b(?:sue|suing) (?:you|them|@\w+|the company)\b",
            r"\bfil(?:e|ing) (?:a )?(?:lawsuit|claim in small claims|class action)\b", r"\bsmall claims court\b",
            r"\b(?:go|going|take (?:you|them|this|it|@\w+)|taking (?:you|them|this|it|@\w+)|see you) "
            r"(?:to |in )court\b",
            r"\breport(?:ing|ed)? (?:you |this |them |it )?to (?:the )?(?:bbb|better business bureau|fcc|ftc|cfpb|"
            r"ombudsman|trading standards|attorney general|regulator)\b"), True),
    ],
    "escalation_refund": [  # money sought back; a refund not granted ("still not reimbursed") is sought too
        (p(r"\b(?:still not|not yet|yet to be|haven't been|hasn't been|have not been|has not been|wasn't|weren't|"
            r"never been|never got|still haven't been)(?: yet| even)? (?:refunded|reimbursed|compensated|credited)\b"),
         False),
        (p(r"\b(?:refund\w*|money back|my \$?\d+ back|reimburs\w*|compensat\w*|reversal|chargeback|"
            r"reverse (?:the|this|my|it|that) ?(?:charge|transaction|payment)?|"
            r"(?:need|want|expect|owed|deserve|see about being) (?:a |my |the )?(?:\$?\d+ )?credit\w*|"
            r"credit(?:ed)? (?:back|to my account)|(?:will|can) you pay (?:me|for)|"
            r"(?:can|could|may) i (?:return|get my money)|(?:my|our|a) (?:\w+ )?claim\b)"), True),
    ],
    "billing_error": [
        (p(r"\b(?:double[- ]charg\w*|overcharg\w*|over-charg\w*|wrongly charged|false charges?|"
            r"unauthori[sz]ed (?:charges?|transactions?|payments?|purchases?|debits?)|fraudulent (?:charges?|"
            r"transactions?|purchases?)|hidden (?:fees?|charges?)|billing (?:error|mistake)|"
            r"(?:wrong|incorrect) (?:amount|bill|invoice|price|charge)s?|charged (?:me |us |my (?:\w+ ){0,2}(?:card|"
            r"account) )?(?:twice|two times|"
            r"double|again|extra|more)|charg(?:ed|ing) (?:me |us )?for (?:\w+ ){0,3}(?:i|we) (?:never|didn't|did "
            r"not|don't|haven't)|charged (?:me |us )?after (?:i |we )?cancel\w*)"), True),
        (p(r"\b(?:ridiculous|excessive|outrageous|crazy|insane|absurd|unfair|extortionate|bogus|junk|stupid|"
            r"amount of) " + _MONEY_NOUN + r"\b",
            r"\b(?:steal(?:ing)?|stole|robb(?:ing|ed|ery)|rob(?:ando|aron)|ripp?(?:ed|ing)? (?:me |us )?off|"
            r"rip-?off|dupe|duping|taking (?:my|our) money|deduct(?:ed|ion|ions|ing))\b",
            r"\b(?:being|been|keep|keeps|still|was|were|got|get) (?:getting )?(?:charged|billed)\b",
            r"\b(?:you're|youre|you are|they're|they are) (?:\w+ )?charging\b",
            r"\b(?:charged|billed) (?:me |us )?(?:a |an )?(?:\$|£|€)?\d+",
            r"\b(?:charged|billed) (?:me |us )?(?:a |an |the )?(?:\w+ )?(?:fee|charge|penalty)\b",
            r"\bwhy (?:was|were|am|are|did|have|has|is) (?:i|we|you|it) (?:been |being )?(?:charg|bill)\w*",
            r"\b(?:credit|refund|money|payment|deposit)s? (?:is |has |have |was )?(?:still )?(?:not|never) "
            r"(?:showing|shown|received|arrived|credited|processed|come back|returned)\b",
            r"\bmade (?:me|us) pay\b", r"\bbilled (?:me |us )?(?:twice|two times|double|again|extra)\b",
            r"\b(?:bill|charges?|price|prices|rate|premium)s? (?:is |are |has |have )?(?:so |way |too )?(?:higher|high|"
            r"went up|gone up|increased|doubled|jumped)\b", r"\b(?:raised|increased|hiked) (?:my |the |our )?"
            r"(?:price|rate|bill|premium)s?\b", r"\b(?:took|take|taken|taking) (?:my |our )?money\b",
            r"\b(?:never|didn'?t|did not) (?:subscrib|sign(?:ed)? up|authori[sz])\w*",
            r"\b(?:cost|costed|costs) (?:me|us) (?:more than |over |about )?(?:rs\.? ?|\$|£|€)?\d+",
            r"\bwhy should (?:i|we) pay\b", r"\bdisput\w*",
            r"\b(?:already )?paid (?:for )?[^.!?]{0,40}\b(?:not|never|without|didn't)\b",
            r"\bpaid for\b[^.!?]{0,40}\bnot (?:provid|deliver|receiv)\w*",
            r"\b(?:not|never) (?:providing|provided|delivering) the services?\b"), True),
        # a money word and a word of dispute in one sentence: "why was I billed again", "charged without asking"
        (p(r"\b" + _MONEY + r"\b[^.!?]{0,50}?\b" + _DISPUTE + r"\b", r"\b" + _DISPUTE + r"\b[^.!?]{0,50}?\b" + _MONEY
           + r"\b"), True, p(_ROUTINE)),
    ],
    "security": [
        (p(r"\b(?:hack(?:ed|er|ers|ing)?|compromised|breach(?:ed)?|phishing|fraud(?:ulent|ster|sters)?|"
            r"identity theft|stolen (?:card|identity|account|details|data)|unauthori[sz]ed (?:access|log ?ins?|"
            r"sign ?ins?|use|activity)|suspicious (?:log ?ins?|sign ?ins?|activity|emails?|texts?|calls?)|"
            r"security (?:issue|incident|hole|problem|breach|concern|flaw)s?|someone (?:logged|got|has) (?:in ?to|"
            r"access to) my account|two[- ]step verification|scam (?:calls?|emails?|texts?))\b"), True),
    ],
    "lockout": [
        (p(r"\b(?:locked out|lock(?:ed)? (?:me|us) out|logged (?:me|us) out|account (?:is |was |has been |got )?"
            r"(?:locked|suspended|disabled|blocked|frozen|deactivated)|(?:can't|cannot|cant|unable to|couldn't|"
            r"won't let me) (?:log ?in|sign ?in|get into (?:my|the) account|access (?:my|the) account)|"
            r"(?:blocked|froze|frozen|declined|suspended) (?:my )?(?:card|account|payment)|keeps? logging me out|"
            r"(?:keep|kept) getting logged out|"
            r"(?:card|account|payment) (?:was |is |has been |got |keeps getting )?(?:blocked|frozen|declined|"
            r"suspended)|(?:nobody|no one|none of us) (?:can|could|is able to) (?:log ?in|sign ?in|access)|"
            r"password (?:is |keeps |still )?(?:says )?(?:incorrect|wrong|not working|rejected)|"
            r"(?:still |it )?says (?:it's |my password is )?incorrect)\b"), True),
    ],
    "trip_disrupted": [
        (p(r"\b" + _TRIP + r"\b[^.!?]{0,40}?\b" + _TRIP_TROUBLE + r"\b",
           r"\b" + _TRIP_TROUBLE + r"\b[^.!?]{0,40}?\b" + _TRIP + r"\b",
            r"\b(?:delayed|cancell?ed|cancel+ing|diverted) (?:my |our |the )?(?:\w+ )?(?:flight|flights|train|"
            r"trains)\b",
            r"\bno trains?\b", r"\bstuck (?:on|outside|at|in) (?:the )?(?:train|plane|tarmac|station|airport|"
            r"runway)\b", r"\bstranded\b", r"\b(?:didn't|did not|didnt|wouldn't|would not|not) (?:let (?:us|me) )?"
            r"board (?:us|me)?\b", r"\b(?:denied|refused) boarding\b", r"\bbumped (?:me |us )?(?:from|off)\b",
            r"\bmissed (?:my |our )?connect\w*"), True),
    ],
    "outage": [
        (p(r"\b(?:outages?|service disruption|downtime|down time)\b",
            r"\b" + _SERVICE + r"\b[^.!?]{0,30}?\b(?:is|are|was|were|been|went|goes|keeps going|being) "
            r"(?:down|offline|out)\b",
            r"\b(?:is|are|was|were|been|went|goes) (?:constantly |always |still |completely |totally |all )?"
            r"(?:down|offline)\b(?! to| for| with| the| by| in| there| here| on)",
            r"\b(?:constant|ongoing|persistent|recurring) (?:issues|problems|errors|outages|crashes)\b",
            r"\b" + _SERVICE + r"\b[^.!?]{0,20}?\b(?:failing|erroring|broken)\b",
            r"\b" + _SERVICE + r"\b[^.!?]{0,30}?\b(?:not|n't|never|isn't|doesn't|won't|wont|dont|doesnt|isnt|"
            r"stopped|keeps not) ?(?:working|work|loading|load|connecting|responding|opening)\b",
            r"\b(?:no|lost(?: my| our| the)?|without|zero) (?:home |mobile |cell |phone )?(?:internet|wi-?fi|signal|"
            r"service|connection|network|data|cable|tv|reception|phone service|online orders?|online ordering)\b",
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
            r"internet|connection|service|wi-?fi|signal))\b",
           r"\b" + _SERVICE + r" (?:issues|problems|trouble|failures?|errors?)\b",
           r"\b(?:issues|problems|difficulties) (?:connecting|logging in|signing in|with (?:my|the|their|your) "
           r"(?:\w+ ){0,2}?(?:network|internet|connection|service|wi-?fi|signal|app|website|site))\b",
           r"\b(?:dropped|dropping) calls\b", r"\bcalls? (?:keeps? )?drop\w*", r"\b(?:calls?|texts?|messages?) "
           r"(?:are not|aren't|not|won't|wont|don't|doesn't|do not) (?:going through|sending|connecting|"
           r"coming through)",
           r"\bstuck (?:on|at) (?:the |a )?(?:loading|login|log in|black|blank|white|error|splash) (?:screen|page)\b",
           r"\bno (?:bars|coverage)\b|\bsos only\b"), True),
        # broad failure words, unless a device or a code is what fails (a bug, not an outage)
        # (people "not working with me", "I am not working", "not responding" are no outage; nor is being unable
        # to pay)
        (p(r"(?:\bnot|n't|\bnever|\bstopped|\bkeeps not) ?(?:working|work|loading|load|connecting|connect|opening|"
           r"streaming|playing|syncing)\b(?! with| on (?:it|this|that|my)| out)"), True, p(_DEVICE, _PERSON)),
        (p(r"\b(?:can't|cannot|cant|can not|unable to|couldn't|won't let me|wont let me|not able to|impossible to) "
           r"(?:connect|get online|get on|get onto|get through|access|load|stream|play|order|watch|download|upload|"
           r"log ?in|sign ?in|open|use|check ?in|book|call|make (?:a )?calls?)\b",
           r"\b(?:is|are|was|were|been|went|goes|keeps going|still|it's|its|they're|currently) (?:\w+ )?"
           r"(?:down|offline)"
           r"\b(?! to| for| with| the| by| in| there| here| on| and out| payment)"), True, p(_DEVICE)),
    ],
    "delivery_failure": [
        (p(r"\b(?:not|never|hasn't|has not|haven't|have not|didn't|did not|still not|yet to)(?: been| yet)? "
            r"(?:arrived|arrive|delivered|received|receive|come|came|shown up|turned up|show up)\b",
            r"\b(?:lost|missing|misplaced|damaged|wrong) (?:my |our |the )?(?:bags?|luggage|suitcase|parcels?|"
            r"packages?|order|items?|delivery)\b",
            r"\b(?:bags?|luggage|parcels?|packages?|order|delivery|item)s? (?:is |was |were |are |got |has been |"
            r"have been )?(?:lost|missing|damaged|never (?:arrived|came|showed up))\b",
            r"\bwhere(?:'s| is) my (?:order|package|parcel|delivery|bags?|luggage)\b", r"\bour bags\b",
            r"\b(?:order|delivery) (?:was )?wrong\b"), True),
    ],
    "data_loss": [
        (p(r"\b(?:data loss|lost (?:all )?(?:of )?(?:my |our |the )?(?:data|records|files|history|photos|contacts|"
            r"progress|saves?|save data|save files?)|(?:data|records|files|photos|saves?|save data|progress|"
            r"history) (?:were |was |are |is |got |have been |has been )?(?:deleted|wiped|gone|missing|lost|"
            r"erased|corrupted)|disappeared|(?:drop|drops|dropped|dropping|los(?:es|ing)) (?:\w+ )?(?:records|rows|"
            r"entries|files|data))\b"), True),
    ],
    "repeat_contact": [
        (p(r"\b" + _NUM + r" (?:different |separate |more |other )?(?:times|calls|emails|e-mails|messages|dms|"
            r"tweets|attempts|tries|phone calls|chats|agents|reps|notices|complaints)\b",
            r"\b" + _ORD + r" (?:\w+ )?(?:time|notice|call|email|message|attempt|request|complaint|outage|failure|"
            r"problem|issue|incident|delay|cancellation)\b",
            r"\b(?:again and again|yet again|once again|over and over|time after time|every (?:single )?time|"
            r"all the time|every (?:day|night|morning|week|month)|everyday|constantly|repeatedly|keeps? (?:happening|"
            r"saying|failing|dropping|crashing|losing|breaking|getting|defaulting)|"
            r"kept (?:happening|saying|failing|defaulting))\b",
            r"\b(?:happen\w*|messed up|did it|doing it|broke|broken|down|charg\w*|billed|fees?|late|delayed|wrong|"
            r"fail\w*|crash\w*|lost|missing|throttl\w*|cancel\w*)\b[^.!?,]{0,20}\bagain\b",
            r"\bstill (?:not|no|nothing|isn't|hasn't|haven't|hasnt|havent|doesn't|doesnt|won't|can't|cannot|"
            r"having|broken|down|the same|same|says|getting|unresolved|a problem|an issue|happening)\b",
            ), False),
    ],
    "unresolved": [
        (p(r"\b(?:no|zero|without any?) (?:response|reply|replies|answer|answers|solution|resolution|"
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
        (p(r"\b(?:thanks?|thank you|thx|thankx|ty|cheers|appreciate\w*|works now|working now|sorted|fixed|"
            r"resolved|solved|all good|no worries|great (?:help|service|support)|(?:you're|you are) (?:the best|"
            r"awesome|great|amazing)|love (?:you|it|this)|got it|found it)\b"), True),
    ],
}
# condemnation of the company or its service: anger; two or more of them (or one with very negative
# sentiment) in one message: hostility. Expletives, mild words, angry emoji and shouting: frustration.
CONDEMN = p(r"\b(?:suck|sucks|sucked|trash|garbage|rubbish|crooks?|liars?|lying|thieves|thief|scam\w*|rip-?off|"
            r"disgust\w*|disgrac\w*|despicable|pathetic|shameful|shame on|ashamed|appall\w*|outrag\w*|furious|"
            r"livid|fuming|horrible|horrendous|atrocious|worst|unacceptable|incompet\w*|criminal|robbing|"
            r"stealing|(?<!identity )theft|unethical|rude|rudest|idiots?|morons?|clowns?|bitch\w*|dupe|hate you|"
            r"hate this)\b", r"#\w*(?:sucks|boycott\w*|worst\w*)\b", "\U0001f92c", "\U0001f595", "\U0001f621")
# distress and rage: anger even without a word against the company
DISTRESS = p(r"\b(?:made me cry|crying|in tears|nearly died|almost died|could have died|terrified|humiliat\w*|"
             r"traumati\w*|desperate|begging|suffering|pissed|irate|infuriat\w*|enraged|seething|beyond (?:angry|"
             r"frustrated|annoyed|furious)|(?:so|extremely|very|really) (?:angry|mad|pissed|upset))\b")
MILD = p(r"\b(?:fuck\w*|shit\w*|bullshit|bs|crap|wtf|tf|damn|frustrat\w*|annoy\w*|disappoint\w*|fed up|sick of|"
         r"tired of|upset|angry|mad|terrible|awful|ridiculous|joke|unbelievable|poor|bad|ugh|smh|fml|come on)\b",
         r"#\w*fail\b", "\U0001f624", "\U0001f620", "\U0001f612", "\U0001f926", "\U0001f644")


# what, just before a phrase, says it does not count: money back already granted, or a routine question
UNLESS: dict[str, re.Pattern[str]] = {
    "escalation_refund": p(r"\b(?:received|got|getting|been|was|were|already|issued|processed|gave me|given)"
                           r"(?: me)?(?: a| my| the| your)?(?: full| partial)? $",
                           r"\bhow (?:long|soon|do i|does|can i|to)\b[^.!?]*$",
                           r"\b(?:status|track\w*) of (?:my |the )?$"),
}
RESOLVED = p(r"\b(?:works now|working now|sorted|fixed|resolved|solved|all good|got it|found it)\b")

"""The word lists the rules model reads customer text with (`agents.signals` applies them).

Words, not phrases: each list is a class of words (a money word, a word of dispute, a service, a device, a
trip, a failure state, a verb of leaving...), and `agents.signals` sets a signal when words of the right classes
meet in one sentence or a few words apart, in the customer's own context, and not under negation. A class is
general vocabulary of support conversations, consumer and business alike, written from the tags' definitions
(config/defaults.toml) rather than from any data set's wording; `forms` spells out regular inflections
(cancel -> cancels, cancelled, canceled, cancelling, canceling), so no list needs them written by hand.

Words are matched after `agents.language` has normalised and lower-cased the text and split it into words
(curly apostrophes folded: "can't" whatever the keyboard).
"""

from __future__ import annotations


def forms(*bases: str) -> frozenset[str]:
    """Each word with its regular inflections (-s/-es, -ed/-d, -ing; a final e dropped, y to ie, a final
    consonant doubled). Over-generation is harmless: a word that does not exist never matches."""
    out: set[str] = set()
    for b in bases:
        out.add(b)
        out.update((b + "s", b + "es", b + "ed", b + "ing", b + "d"))
        if b.endswith("e"):
            out.update((b[:-1] + "ing", b[:-1] + "ed"))
        if b.endswith("y") and len(b) > 2 and b[-2] not in "aeiou":
            out.update((b[:-1] + "ies", b[:-1] + "ied"))
        if len(b) > 2 and b[-1] not in "aeiouwxy" and b[-2] in "aeiou" and b[-3] not in "aeiou":
            out.update((b + b[-1] + "ed", b + b[-1] + "ing"))
    return frozenset(out)


# --- money: the customer's money, and disputes about it -------------------------------------------------
MONEY = forms("charge", "overcharge", "surcharge", "bill", "invoice", "pay", "prepay", "repay", "debit",
              "refund", "reimburse", "compensate", "credit", "cost", "price", "fee", "deposit") | {
    "paid", "payment", "payments", "billing", "pricing", "overpriced", "money", "cash", "funds", "fare", "fares",
    "dollars", "bucks", "euros", "quid", "penalty", "penalties", "reimbursement", "compensation", "chargeback",
    "cashback", "rebate", "$", "\u00a3", "\u20ac",
}
# what shows on a statement (a charge the customer did not make is disputed however it is named), and cash
# handed out by a machine
ENTRIES = {"payment", "payments", "charge", "charges", "transaction", "transactions", "withdrawal", "withdrawals",
           "withdrawl", "debit", "debits", "purchase", "purchases", "deduction", "deductions", "fee", "fees"}
AT_MACHINE = {"atm", "atms", "machine", "cash", "withdrawal", "withdrawl", "withdrew", "withdrawn"}
# money sought back: a word that asks for it by itself
SEEK = forms("refund", "reimburse", "compensate") | {"reimbursement", "reimbursements", "compensation",
                                                     "chargeback", "chargebacks", "reversal"}
# what turns a money word into a dispute: the charge is wrong, unfair, unwanted or repeated; or disputed
DISPUTE_STRONG = forms("overcharge", "dispute", "steal", "rob", "scam", "refuse", "reject", "deny", "gouge",
                       "hike", "mistake", "error") | {
    "wrong", "wrongly", "wrongful", "incorrect", "incorrectly", "false", "falsely", "twice", "double", "doubled",
    "duplicate", "duplicated", "extra", "unauthorized", "unauthorised", "fraud", "fraudulent", "fraudulently",
    "stole", "stolen", "theft", "ripoff", "rip", "ripped", "ridiculous", "outrageous", "absurd", "insane",
    "unfair", "unjust", "hidden", "mistake", "mistaken", "mistakenly", "error", "erroneous", "without",
    "still", "again", "why", "overbilled", "bogus", "extortionate", "excessive", "expensive", "unacceptable",
    "denied", "scam", "scams", "scammed", "crooks", "thieves", "robbery", "illegal", "illegally", "unlawful",
    "authorize", "authorise", "authorized", "authorised", "consent", "permission", "overpriced",
}
DISPUTE_WEAK = forms("promise", "cancel", "owe", "increase", "raise", "force", "keep", "stop") | {
    "supposed", "should", "shouldn't", "instead", "more", "than", "made", "make", "making", "kept", "keeps",
    "went", "up", "higher", "back", "whole", "entire",
}
# a question about how money back works, or money already granted: no dispute by itself
ROUTINE = {"how", "when", "status", "track", "tracking", "eta", "thanks", "thank", "thx", "appreciate",
           "received", "got", "issued", "processed", "approved", "gave", "given", "getting"}
BATTERY = {"battery", "batteries", "charger", "chargers", "port", "cable", "wireless", "plug",
           "plugged", "power", "%", "percent", "mah"}

# --- service down: the customer's service, down or unusable --------------------------------------------
SERVICE = {
    "internet", "wifi", "wi", "fi", "broadband", "fibre", "fiber", "fios", "service", "services", "network",
    "networks", "signal", "reception", "coverage", "connection", "connectivity", "data", "lte", "4g", "3g", "5g",
    "app", "apps", "website", "websites", "site", "sites", "webpage", "page", "pages", "server",
    "servers", "online", "login", "logins", "log", "portal", "dashboard", "api", "system", "systems", "platform",
    "checkout", "ordering", "orders", "stream", "streaming", "channel", "channels", "tv", "cable", "landline",
    "email", "e-mail", "emails", "psn", "live", "multiplayer", "video", "videos", "calls", "texts", "sms",
    "voicemail", "power", "electricity", "router", "modem", "wifi's", "sync", "database", "cloud", "vpn",
    "sso", "dns", "hotspot", "calling", "texting", "phone service", "games", "game", "chat",
}
DEVICE = {
    "phone", "iphone", "ipad", "ipod", "mac", "macbook", "laptop", "computer", "pc", "keyboard", "keyboards",
    "screen", "display", "battery", "camera", "watch", "charger", "headphones", "airpods", "earbuds", "speaker",
    "mic", "microphone", "printer", "remote", "controller", "console", "touchscreen", "button", "bluetooth",
    "autocorrect", "update", "updates", "updated", "ios", "software", "firmware", "siri", "fingerprint",
    "car", "door", "fridge", "washer", "dryer", "oven", "tablet", "kindle", "mouse", "trackpad", "face",
    "touch", "alarm", "volume", "sound", "audio", "emoji", "font", "icon", "icons", "widget", "settings",
    "coupon", "voucher", "promo", "discount", "card", "gift", "code", "codes",
}
# a state of failure (with a service in the sentence it is an outage)
DOWN = forms("crash", "freeze", "lag", "disconnect", "glitch", "fail", "buffer", "drop", "timeout") | {
    "error", "errors", "broken", "dead", "laggy", "slow", "slowly", "froze", "frozen", "failure", "failures",
    "unavailable", "unusable", "inaccessible", "unreachable", "intermittent", "patchy", "spotty", "unstable",
    "overloaded", "outage", "outages", "offline", "down", "404", "500", "502", "503", "504", "disruption",
    "disruptions", "interrupted", "interruption", "interruptions", "flaky", "bugged", "kbps", "spinning",
}
# what a service does when it works: negated ("not working", "won't load"), it is down
WORKS = forms("work", "load", "connect", "open", "respond", "stream", "play", "sync", "send", "function",
              "launch", "refresh", "upload", "download")
# what a customer cannot do when a service is down ("can't connect", "unable to log in")
ACCESS = forms("connect", "access", "load", "login", "log", "sign", "stream", "watch", "play", "order", "call",
               "text", "browse", "download", "upload", "use", "get", "check", "book", "pay", "open", "reach",
               "see", "view", "send", "receive", "make", "place", "redeem", "purchase", "buy")
CANNOT = {"can't", "cant", "cannot", "couldn't", "couldnt", "unable", "impossible", "won't", "wont", "not",
          "trouble", "problems", "issues", "problem", "issue", "difficulty", "difficulties", "struggling",
          "failed", "fails", "failing"}
# locked out: the account, the card or the payment refused ("account suspended", "card declined")
ACCOUNT = {"account", "accounts", "card", "cards", "payment", "payments", "transaction", "transactions",
           "funds", "money", "login", "password", "profile", "id", "membership", "wallet", "balance", "pin",
           "verification", "code", "otp", "2fa", "card's", "account's", "contactless"}
BLOCKED = forms("lock", "suspend", "disable", "block", "freeze", "deactivate", "decline", "reject", "restrict",
                "ban", "limit", "hold", "flag") | {
    "froze", "frozen", "held", "hold", "pending", "declined", "incorrect", "invalid", "locked", "expired",
}

# --- trips, and the customer's goods -------------------------------------------------------------------
TRIP = {"flight", "flights", "train", "trains", "bus", "buses", "coach", "plane", "planes", "ferry", "tram",
        "trip", "trips", "journey", "journeys", "departure", "arrival", "boarding", "gate", "tarmac", "layover",
        "ride", "rides", "pickup", "taxi", "cab", "driver", "route", "platform", "connecting", "transfer",
        "cruise", "airport", "station", "booking", "reservation",
        "tube", "metro", "subway", "underground", "connection", "connections", "runway", "terminal", "aircraft",
        "pilot", "schedule", "flt"}
TRIP_BAD = forms("delay", "cancel", "strand", "divert", "ground", "overbook", "oversell", "bump", "reroute",
                 "terminate", "strike") | {
    "late", "stuck", "cancellation", "cancellations", "cancelation", "cancelations", "canceled", "oversold",
    "stranded", "missed", "delays", "delayed", "no-show", "held", "diverted", "disrupted", "disruption", "denied",
    "pushed",
}
GOODS = {"parcel", "parcels", "package", "packages", "order", "orders", "delivery", "deliveries", "item", "items",
         "bag", "bags", "luggage", "baggage", "suitcase", "suitcases", "shipment", "shipments", "food", "meal",
         "groceries", "purchase", "product", "products", "box", "boxes", "letter", "letters", "mail", "goods",
         "equipment", "gear", "pizza", "drink", "drinks", "takeaway", "takeout", "courier", "shipping"}
GOODS_BAD = forms("lose", "miss", "damage", "break", "steal", "spill") | {
    "lost", "missing", "damaged", "broken", "stolen", "wrong", "late", "delayed", "cold", "incomplete",
    "forgot", "forgotten", "mixed", "smashed", "crushed", "leaking", "rotten", "never",
}
ARRIVE = forms("arrive", "deliver", "receive", "come", "show", "turn", "get") | {"came", "got", "here", "gotten"}
DATA = {"data", "files", "file", "photos", "pictures", "pics", "contacts", "messages", "history", "saves",
        "save", "progress", "records", "emails", "notes", "playlists", "playlist", "library", "backup",
        "backups", "documents", "videos", "music", "songs", "texts", "entries", "rows", "characters",
        "character", "stats", "achievements", "trophies", "conversations", "bookmarks", "drafts"}
GONE = forms("lose", "delete", "wipe", "erase", "disappear", "corrupt", "vanish", "drop", "reset", "remove") | {
    "lost", "gone", "missing", "wiped", "erased", "disappeared", "corrupted", "vanished", "deleted",
}

# --- leaving ----------------------------------------------------------------------------------------------
# ending the relationship: a verb of ending with what the customer holds ("close my account")
END = forms("cancel", "close", "terminate", "end", "quit", "drop", "leave", "discontinue", "delete",
            "deactivate", "stop", "unsubscribe", "uninstall", "ditch", "dump", "port", "remove", "shut", "disable",
            "inactivate", "erase", "resign", "resiliate", "cancell", "disconnect", "kill", "desactivate",
            "disdire", "annul", "rescind", "denounce") | {"quitting", "shutting", "finish", "finishing"}
# nouns of ending a contract, in English and as second-language writers borrow them ("the disdetta of my line")
END_NOUNS = frozenset({"cancellation", "cancelation", "termination", "disdetta", "kündigung", "kundigung",
                       "resiliation", "résiliation", "disconnection", "closure", "sonderkündigungsrecht",
                       "portabilità", "portabilidade"})
# the words the steps of leaving start from (`signals.leaving_steps`)
LEAVING_STEPS = END_NOUNS | {"porting", "ported", "pac", "stac", "long", "paying", "remove", "break", "breaking",
                             "buyout", "buy-out", "want", "wanna", "mnp", "upc", "transfer"}
HELD = {"account", "accounts", "acct", "profile", "sub", "subs", "subscription", "subscriptions", "membership",
        "memberships", "service", "services", "contract", "contracts", "plan", "plans", "policy", "policies", "line",
        "lines",
        "internet", "cable", "prime", "number", "app", "business", "custom", "agreement", "broadband", "phone",
        "insurance", "everything", "all", "tv", "wifi", "mobile", "cellular", "package", "bundle", "sky",
        "netflix", "spotify", "fibre", "fiber", "landline", "abo", "abos", "abonnement", "sim", "prepaid", "postpaid",
        "connection", "dth", "tarif", "tariff", "acc"}
# the customer's own, not a one-off: an order, a ride or a booking cancelled is no leaving
ONE_OFF = {"order", "orders", "ride", "rides", "trip", "trips", "flight", "flights", "booking", "bookings",
           "reservation", "reservations", "appointment", "appointments", "delivery", "request", "payment",
           "transfer", "ticket", "tickets", "pre-order", "preorder", "session", "meeting", "call", "room", "plans"}
# what customers never do again ("never flying with you again"); with "again" any verb will do
NEVER_AGAIN = forms("use", "buy", "fly", "order", "shop", "return", "recommend", "book", "stay", "eat",
                    "deal", "trust", "renew", "choose", "pick", "purchase", "visit", "travel", "step", "set",
                    "touch", "go", "come", "bank", "spend", "ride", "rent", "subscribe", "support", "believe",
                    "give") | {"back", "again"}
# moving to someone else
SWITCH = forms("switch", "move", "change", "port", "jump", "go", "defect", "migrate", "transfer") | {
    "went", "gone"}
# competitors customers name when they leave, as they write them (no @): carriers, banks, airlines, platforms
BRANDS = {"verizon", "att", "at&t", "tmobile", "t-mobile", "sprint", "comcast", "xfinity", "spectrum", "cox", "boost",
          "cricket", "metro", "vodafone", "ee", "o2", "three", "sky", "bt", "virgin", "lyft", "uber", "netflix", "hulu",
          "spotify", "amazon", "walmart", "target", "delta", "united", "southwest", "jetblue", "ryanair", "easyjet",
          "chase", "paypal", "venmo", "android", "samsung", "google", "apple", "iphone", "pixel", "swisscom", "sunrise",
          "salt", "upc", "telekom", "proximus", "kpn", "telia", "telenor", "tele2", "movistar", "sfr", "bouygues",
          "telstra", "optus", "telus", "airtel", "jio", "ziggo", "fastweb", "visible", "lyca", "lebara", "giffgaff",
          "koodo", "fido", "starlink", "teksavvy", "eir", "plusnet", "talktalk", "tpg", "bsnl", "videotron",
          "centurylink", "windstream", "hughesnet", "viasat", "amaysim", "iinet", "superloop", "rogers", "smarty",
          "virginmedia", "vodafoneuk", "suddenlink", "mediacom", "astound", "yallo", "wingo", "sosh", "iliad",
          "telenet", "quickline", "init7", "lycamobile", "mtn", "telkom", "vodacom", "spark", "2degrees", "voxi",
          "tello", "simyo", "drei", "a1", "magenta"}
# airlines as customers address them (@ handles, lower case) and as they name them: a delay told to one, or at an
# airport, is a trip's even when no flight is named ("@jetblue delayed again", "3 hours at JFK"). Names that are
# also everyday words ("united", "delta", "spirit", "frontier") count only as handles.
AIRLINE_HANDLES = {"united", "delta", "americanair", "southwestair", "jetblue", "alaskaair", "spiritairlines",
                   "spirit", "allegiant", "flyfrontier", "allegiantair", "hawaiianair", "usairways", "virginamerica",
                   "suncountryair", "aircanada", "westjet", "flyporter", "flyflairairline", "ryanair", "easyjet",
                   "wizzair", "vueling", "jet2tweets", "british_airways", "virginatlantic", "aerlingus", "lufthansa",
                   "klm", "airfrance", "iberia", "finnair", "sas", "norwegian", "flyswiss", "tapairportugal",
                   "turkishairlines", "emirates", "qatarairways", "etihad", "flydubai", "singaporeair",
                   "cathaypacific", "qantas", "jetstar", "virginaustralia", "flyairnz", "airasia", "cebupacificair",
                   "airindia", "indigo6e", "aeromexico", "volaris", "avianca", "loganair", "eurowings", "icelandair",
                   "breezeairways"}
AIRLINES = {"jetblue", "ryanair", "easyjet", "wizzair", "vueling", "lufthansa", "klm", "finnair", "qantas", "jetstar",
            "airasia", "westjet", "emirates", "etihad", "icelandair", "aeromexico", "volaris", "avianca", "allegiant",
            "aircanada", "aerlingus", "eurowings", "loganair", "flydubai", "spicejet", "vistara", "transavia"}
AIRPORTS = {"jfk", "lax", "lga", "laguardia", "ewr", "ord", "o'hare", "ohare", "sfo", "atl", "dfw", "iad", "dulles",
            "dca", "mco", "phx", "msp", "dtw", "clt", "slc", "bwi", "yyz", "yvr", "yul", "yyc", "lhr", "heathrow",
            "lgw", "gatwick", "stansted", "luton", "cdg", "orly", "schiphol", "muc", "dxb", "hkg", "changi", "bcn",
            "barajas", "fiumicino", "mdw", "iah", "fll", "tpa", "rdu", "pdx", "bna", "msy", "sea-tac", "seatac"}
RIVAL = {"another", "different", "other", "others", "competitor", "competitors", "competition", "rival",
         "rivals", "elsewhere", "somewhere"}
PROVIDER = {"provider", "providers", "carrier", "carriers", "company", "companies", "bank", "banks", "airline",
            "airlines", "isp", "network", "networks", "brand", "brands", "supplier", "suppliers", "vendor",
            "vendors", "service", "services", "platform", "store", "stores", "shop", "retailer", "insurer",
            "operator", "operators", "telco", "telcos"}
# legal threats (a mention is not a threat: the sentence must say who will act)
LAW = {"lawyer", "lawyers", "attorney", "attorneys", "solicitor", "solicitors", "lawsuit", "lawsuits", "sue",
       "suing", "sued", "court", "courts", "legal", "litigation", "bbb", "fcc", "ftc", "cfpb", "ombudsman",
       "regulator", "regulators", "ofcom", "ofgem", "ombudsman's"}
THREAT = forms("contact", "hire", "consult", "speak", "talk", "call", "report", "file", "take", "see", "get",
               "involve", "seek", "escalate", "forward", "complain", "bring", "go", "pursue", "lodge") | {
    "will", "going", "gonna", "i'll", "we'll", "i'm", "we're", "my", "our", "took", "went", "to", "with"}

# --- persistence ----------------------------------------------------------------------------------------
NUMBER = {"two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve", "fifteen",
          "twenty", "several", "multiple", "many", "countless", "numerous", "dozen", "dozens", "hundreds", "few",
          "umpteen", "100"}
ORDINAL = {"second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth", "umpteenth",
           "nth", "2nd", "3rd", "4th", "5th", "6th", "7th", "8th", "9th", "10th"}
CONTACTS = {"times", "calls", "call", "emails", "email", "messages", "dms", "tweets", "attempts", "tries",
            "chats", "agents", "reps", "representatives", "people", "complaints", "occasions", "visits",
            "letters", "tickets", "requests", "phone", "time", "notice", "attempt", "request", "complaint",
            "outage", "failure", "problem", "issue", "incident", "delay", "cancellation", "occasion", "visit",
            "letter", "ticket", "message", "week", "month", "day", "year", "days", "weeks", "months", "years"}
# durations count only with waiting or a failure; contacts count by themselves
DURATIONS = {"week", "month", "day", "year", "days", "weeks", "months", "years"}
STILL = {"still", "again", "yet", "repeatedly", "constantly", "continually", "continuously", "everyday",
         "always", "keeps", "kept", "keep"}
# what "still" says about a problem that has not gone away
STILL_BAD = {"not", "no", "nothing", "isn't", "hasn't", "haven't", "doesn't", "won't", "can't", "cannot",
             "having", "broken", "down", "waiting", "same", "getting", "happening", "unresolved", "charging",
             "charged", "missing", "stuck", "didn't", "wasn't", "aren't", "don't", "unable", "says", "showing",
             "shows", "failing", "crashing", "dropping", "problems", "issues", "an", "a", "never"}
# no answer
ANSWER = forms("answer", "respond", "reply", "help", "resolve", "fix", "solve", "acknowledge", "contact",
               "assist", "care") | {"response", "responses", "replies", "solution", "resolution", "update",
                                    "updates", "callback", "follow-up", "luck", "dice", "help", "one", "avail",
                                    "back", "word", "sorted", "fixed", "resolved", "solved"}
NOBODY = {"nobody", "noone", "no-one", "none"}
UNRESOLVED = forms("ignore", "escalate") | {
    "useless", "pointless", "unhelpful", "runaround", "unresolved", "excuses", "nowhere", "circles",
}

# --- mood ------------------------------------------------------------------------------------------------
# words against the company or its service: anger; two of them (or one very negative message): hostility
CONDEMN = forms("disgust", "appal", "outrage", "steal", "rob", "lie") | {
    "suck", "sucks", "sucked", "trash", "garbage", "rubbish", "crooks", "crook", "liars", "liar", "lying",
    "thieves", "thief", "scam", "scams", "scammers", "scammer", "ripoff", "disgusting", "disgusted",
    "disgrace", "disgraceful", "despicable", "pathetic", "shameful", "ashamed", "appalling", "appalled",
    "outrageous", "furious", "livid", "fuming", "horrible", "horrendous", "atrocious", "worst", "unacceptable",
    "incompetent", "incompetence", "criminal", "criminals", "theft", "unethical", "rude", "rudest", "idiots",
    "idiot", "morons", "moron", "clowns", "shambles", "diabolical", "abysmal", "deplorable", "inexcusable",
    "unprofessional", "scandalous", "dishonest", "greedy", "fraudsters", "bitch", "bastards", "bastard",
    "clueless",
}
# distress and rage: anger even without a word against the company
DISTRESS = {"crying", "cry", "cried", "tears", "terrified", "humiliated", "humiliating", "desperate", "begging",
            "suffering", "pissed", "irate", "infuriating", "infuriated", "enraged", "seething", "livid",
            "furious", "heartbroken", "devastated", "traumatized", "traumatised", "scared", "panicking", "stressed",
            "distraught", "outraged", "raging", "fuming"}
# expletives and mild words: frustration
MILD = {"fuck", "fucking", "fucked", "fuckin", "shit", "shitty", "bullshit", "bs", "crap", "crappy", "wtf", "tf",
        "damn", "dammit", "frustrated", "frustrating", "frustration", "annoyed", "annoying", "disappointed",
        "disappointing", "disappointment", "upset", "angry", "mad", "poor", "bad", "ugh", "smh", "fml", "sick",
        "tired", "fed", "unbelievable", "seriously", "really", "fail", "rubbish", "hopeless", "lousy", "sad",
        "unhappy", "irritated", "irritating", "ffs", "omfg", "terrible", "awful", "ridiculous", "joke",
        "jokes", "nightmare", "shocking", "dreadful",
        "\U0001f624", "\U0001f620", "\U0001f612", "\U0001f926", "\U0001f644", "\U0001f621", "\U0001f92c",
        "\U0001f595", "\U0001f62d", "\U0001f629", "\U0001f62b", "\U0001f611", "\U0001f610"}
ANGRY_EMOJI = {"\U0001f92c", "\U0001f595", "\U0001f621", "\U0001f620"}
# --- satisfied ----------------------------------------------------------------------------------------------
THANKS = {"thanks", "thank", "thx", "thankx", "thankyou", "ty", "cheers", "appreciate", "appreciated",
          "grateful", "\U0001f64f", "\U0001f44d"}
# praise ("great help", "you're the best") and what says a problem is gone ("works now", "all sorted")
RESOLVED = {"sorted", "fixed", "resolved", "solved", "working", "works", "found", "got", "good", "perfect",
            "brilliant", "awesome", "great", "amazing", "excellent", "love", "best", "worries", "helpful",
            "wonderful", "fantastic"}

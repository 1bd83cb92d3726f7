"""Detection quality of `ftk lint`'s dataset rules, on data with planted defects at known lines.

    .venv/bin/python bench/quality.py --rows 20000 --seed 0          # generate, lint, score
    .venv/bin/python bench/quality.py --rows 2000 --no-sweep         # quick: the default threshold only
    .venv/bin/python bench/quality.py --rows 20000 --system-share 0  # ablation: no shared system prompts
    .venv/bin/python bench/quality.py --rows 20000 --score-only      # re-score an earlier run's reports

Writes, under --out (default bench/out/quality/rows{N}_seed{S}/):
  train.jsonl, eval.jsonl   the generated data (OpenAI chat rows)
  manifest.json             every planted defect: kind, variant, line numbers, partner lines
  report_t{T}.json          ftk's JSON report at --near-threshold T (timings.json: its wall time)
  results.json              the scores, and examples of every kind of miss and false alarm
and prints the tables (markdown) to stdout.

THE DATA. Clean rows are English chats composed from a small phrase-structure grammar (openers x
clauses x tails, ~50 question frames) whose slots are filled from large banks: ~400 topic nouns in 18
topics, ~140 adjectives, ~140 verbs, names, cities, organisations, numbers and years. A row is a
question with 0-3 context sentences and an answer of 1-16 sentences (prose, a numbered list, or one
or two lines), sometimes a system prompt, sometimes a follow-up exchange. Any two clean rows share
almost no word 3-grams (the scorer checks the clean rows ftk pairs up), so every duplicate in the
file is a planted one. Planted, at shares of --rows (SHARES):

  exact         a copy of an earlier clean row, verbatim or with case / whitespace changes   (FTK201)
  near          an edited copy of an earlier clean row, at graded edit levels (NEAR_LEVELS):
                punctuation only, another greeting, 1-35% of the words replaced / inserted /
                deleted at random places, or one contiguous block of 10-20% rewritten.
                GROUND TRUTH: the exact Jaccard similarity of the two rows' word 3-gram sets
                (text case-folded, words = \\w+ runs, 3-grams taken per turn and tagged with the
                turn's role: the shingles ftk estimates) is computed here; a pair with J >= 0.8
                (ftk's default threshold) should be flagged, one below should not   (FTK203)
  contradiction the prompt of an earlier clean row with a new, unrelated answer; the prompt is
                the same, re-cased / re-spaced, or lightly reworded (CONTRA_VARIANTS: punctuation,
                a filler such as "Quick question:" in front, one word swapped for a synonym).
                All are positives                                                    (FTK202 or FTK204)
  language      a whole row in French, German or Spanish, or an English prompt answered in one
                of them (phrase banks below)                                                 (FTK601)
  language_control  an English row that quotes one foreign sentence: must NOT be flagged

and an eval file (--eval-rows, default rows/10) for `--against` (FTK205): 10% exact copies of a
training row, 10% near copies (2-10% of the words edited, or another greeting), 7% rows whose answer
embeds a 13-30-word passage from a training row, 5% rows whose prompt (>= 13 words) is a training
row's prompt with a new answer: all positives. Negatives: the rest, fresh rows, of which 5% embed a
10-12-word passage from a training row (a near miss for the 13-gram test). Like the training rows,
15% of eval rows carry one of the shared system prompts (SYSTEM_PROMPTS, --system-share), as real
chat eval sets do.

THE SCORES (see `score`):
  exact-dup      pair found: the later row has FTK201 with the earlier row in its related lines
  near-dup       pair found: the later row has FTK203 or FTK201 with the earlier one in related.
                 Recall over planted pairs with J >= cut; precision over FTK203 findings: a finding
                 is right when some row in its related lines has J >= cut with the flagged row
                 (pairs ftk finds among clean rows are judged the same way, by their exact J).
  contradiction  pair found: the planted row has FTK202 or FTK204 with its partner in related.
                 Precision over FTK202/FTK204 findings: right when related holds the flagged row's
                 planted partner. FTK202 on a planted near copy whose prompt the edits left intact
                 ("same prompt, slightly different answer": what FTK202 is documented to report)
                 is neither right nor wrong: counted apart, out of the precision. FTK202 on two
                 clean rows that happen to ask the very same short question is right.
  leakage        per eval row: FTK205 on a positive eval row is a hit, on a negative one a false alarm.
  language       per training row: FTK601 on a planted row is a hit, anywhere else a false alarm.
For near-duplicates it also reports what an ideal MinHash detector (128 permutations, ftk's LSH
bands, the ground-truth shingles) would score on the same pairs, computed exactly: the part of the
error that is the estimate's own noise.

Deterministic for a seed (one random.Random). Standard library only; ftk runs as a subprocess
(`python -m ftk lint`) with an empty config, so a [tool.ftk.lint] table nearby cannot change it.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

# ----------------------------------------------------------------------------------------------
# Shares and levels
# ----------------------------------------------------------------------------------------------

SHARES = {"exact": 0.015, "near": 0.06, "contradiction": 0.02, "language": 0.01, "language_control": 0.003}
EVAL_SHARES = {"exact": 0.10, "near": 0.10, "passage": 0.07, "prompt": 0.05, "near_miss": 0.05}
EVAL_POSITIVE = ("exact", "near", "passage", "prompt")
# Near-duplicate edit levels, drawn in turn (round-robin): (name, style, share of words edited).
NEAR_LEVELS = [
    ("punct", "punct", 0.0), ("greeting", "greeting", 0.0),
    ("scatter-1%", "scatter", 0.01), ("scatter-2%", "scatter", 0.02), ("scatter-3%", "scatter", 0.03),
    ("scatter-5%", "scatter", 0.05), ("scatter-10%", "scatter", 0.10), ("scatter-20%", "scatter", 0.20),
    ("scatter-35%", "scatter", 0.35), ("block-10%", "block", 0.10), ("block-20%", "block", 0.20),
]
CONTRA_VARIANTS = ["same", "case-space", "punct", "filler", "synonym"]
LANG_VARIANTS = ["whole", "whole", "whole", "answer"]  # 3:1 whole row : English prompt, foreign answer
TRUTH_CUT = 0.8
SYSTEM_SHARE = 0.15
MULTI_TURN_SHARE = 0.10

# ----------------------------------------------------------------------------------------------
# English word banks
# ----------------------------------------------------------------------------------------------

TOPICS = {
    "cooking": "recipe sauce onion garlic skillet oven dough broth marinade spice crust knife pan stew salad "
               "vinegar butter flour yeast pastry grill kettle lentil noodle dumpling glaze casserole spatula "
               "thermometer cutlet omelette",
    "gardening": "tomato seedling compost mulch trellis greenhouse hedge shrub soil root fertiliser pot hose rake "
                 "bulb orchard vine pest weed sprinkler cutting blossom hive meadow lawn shovel wheelbarrow "
                 "pruner raspberry",
    "finance": "budget loan mortgage invoice pension account deposit portfolio dividend fund tax receipt "
               "payment balance statement bill subscription credit debt spreadsheet ledger broker insurer "
               "premium paycheck expense auditor refund",
    "programming": "function variable compiler library module script parser thread query endpoint repository "
                   "branch commit loop array pointer interface class method exception callback container "
                   "dependency build release bug feature framework linter",
    "databases": "index table schema column transaction replica shard cursor trigger backup migration cluster "
                 "cache partition constraint lock snapshot checkpoint tablespace sequence",
    "networking": "router switch packet firewall subnet gateway protocol socket certificate proxy tunnel "
                  "bandwidth cable antenna modem port domain server client hub resolver",
    "travel": "itinerary passport hostel airport suitcase ticket visa museum ferry railway hotel guidebook "
              "layover station cathedral beach hike border currency backpack map campsite",
    "fitness": "workout squat treadmill stretch routine muscle marathon sprint dumbbell posture warmup calorie "
               "protein injury coach bicycle swim knee shoulder plank kettlebell",
    "history": "empire treaty dynasty revolution monarch archive manuscript colony fortress parliament merchant "
               "pilgrim castle siege charter chronicle republic senate battle harbour guild",
    "astronomy": "telescope galaxy comet nebula orbit planet moon eclipse asteroid star satellite observatory "
                 "spectrum meteor crater lens constellation pulsar quasar rover",
    "music": "melody chord rhythm guitar piano violin drum album concert chorus lyric tempo scale orchestra "
             "choir microphone amplifier playlist riff harmony metronome",
    "photography": "camera shutter aperture tripod portrait exposure sensor filter flash print darkroom "
                   "negative frame landscape histogram zoom bracket gallery lightbox",
    "home repair": "faucet drywall hinge outlet breaker pipe roof gutter window insulation tile grout ladder "
                   "drill screw wrench thermostat boiler doorframe floorboard radiator",
    "parenting": "toddler bedtime nursery stroller tantrum allowance playground homework teenager babysitter "
                 "lunchbox crib daycare chore tutor sibling snack pediatrician birthday reward",
    "marketing": "campaign brand newsletter audience slogan funnel banner influencer survey launch conversion "
                 "competitor advertisement headline coupon keyword metric persona webinar",
    "chemistry": "molecule reagent catalyst solvent beaker titration compound isotope crystal polymer enzyme "
                 "electrode buffer precipitate flask acid sample reaction spectrometer pipette",
    "ecology": "wetland species habitat forest predator pollinator reef river drought glacier watershed "
               "migration wildfire coral mangrove prairie insect canopy estuary seabird",
    "office": "meeting deadline agenda spreadsheet printer calendar manager intern contract proposal "
              "presentation whiteboard desk laptop inbox memo report supplier workshop",
}
TOPICS = {t: words.split() for t, words in TOPICS.items()}
ALL_NOUNS = sorted({n for ns in TOPICS.values() for n in ns})
IRREGULAR_PLURALS = {"knife": "knives", "shelf": "shelves", "leaf": "leaves", "species": "species",
                     "child": "children", "person": "people", "analysis": "analyses", "crisis": "crises"}

ADJECTIVES = """simple reliable expensive cheap fragile sturdy modern ancient quiet noisy bright dark heavy light
small large narrow wide thin thick soft hard smooth rough warm cold fresh stale clean dirty careful quick slow
steady busy empty full shallow deep loose tight sharp dull flexible rigid portable bulky compact durable delicate
colourful plain fancy basic advanced rare common popular obscure useful handy awkward safe risky healthy crisp
tender juicy salty sweet bitter sour spicy mild strong weak gentle harsh calm tidy messy humid sunny rainy windy
dusty shiny glossy local foreign rural urban seasonal annual weekly daily manual automatic digital wireless
remote nearby distant early late recent classic vintage custom generic official informal formal precise typical
unusual strange familiar ordinary elegant clumsy efficient wasteful affordable premium secure stable sensitive
robust lightweight waterproof organic synthetic natural artificial tiny huge narrow steep flat hollow""".split()
ADVERBS = """quickly slowly carefully gently firmly rarely often usually always sometimes gradually suddenly quietly
easily roughly exactly nearly barely clearly simply properly regularly occasionally evenly thoroughly lightly
heavily briefly safely directly slightly mostly largely steadily loosely tightly neatly fully partly badly
early later daily weekly twice""".split()
VERBS = """check adjust replace measure compare clean build test store label move track update remove install
repair prepare review organise record share reduce protect inspect sort design explain describe improve
simplify calculate estimate schedule document monitor cover heat cool mix split wrap fill empty open close
rotate tighten loosen paint sand seal water feed wash dry polish print scan copy export import compress encrypt
deploy debug refactor rename merge publish draft edit translate rehearse stretch balance lift carry pack unpack
book cancel visit explore photograph observe sketch plant harvest prune trim boil roast bake season slice chop
stir grill rinse drain strain weigh fold knead lock unlock restart configure benchmark borrow lend repay invest
save spend audit outline summarise present promote keep find hold bring choose take write read set cut put
sell buy teach catch throw hide ride""".split()
IRREGULAR_VERBS = {  # base: (past, past participle)
    "build": ("built", "built"), "split": ("split", "split"), "feed": ("fed", "fed"), "lend": ("lent", "lent"),
    "spend": ("spent", "spent"), "keep": ("kept", "kept"), "find": ("found", "found"), "hold": ("held", "held"),
    "bring": ("brought", "brought"), "choose": ("chose", "chosen"), "take": ("took", "taken"),
    "write": ("wrote", "written"), "read": ("read", "read"), "set": ("set", "set"), "cut": ("cut", "cut"),
    "put": ("put", "put"), "sell": ("sold", "sold"), "buy": ("bought", "bought"), "teach": ("taught", "taught"),
    "catch": ("caught", "caught"), "throw": ("threw", "thrown"), "hide": ("hid", "hidden"),
    "ride": ("rode", "ridden"),
}
DOUBLING = {"wrap", "trim", "chop", "stir", "debug", "cancel", "plan", "drop", "ship", "cut", "set", "put", "scan"}
FIRST_NAMES = """Amara Ben Chloe Diego Elena Farah Gustav Hana Ivan Jasmine Kofi Lena Mateo Nadia Oscar Priya
Quentin Rosa Samir Tara Umar Vera Wen Ximena Yusuf Zoe Aiden Bianca Carlos Dana Emeka Fiona Goran Helga Ines
Jamal Kira Leo Maya Nikhil Olga Pablo Rina Sven Tomas Uma Victor Wanda Yara Zeke Alma Bruno Cora Dmitri Esme
Felix Greta Hugo Isla Jonas Keiko Luca Mira Noor Otto Paula Rafael Selin Theo Ulla Vikram Willa Xavier Yuki
Zara""".split()
LAST_NAMES = """Okafor Lindqvist Moreau Tanaka Rossi Kowalski Haddad Fernandes Novak Schmidt Patel Nguyen
Oyelaran Garcia Ivanova Bergstrom Costa Dubois Eriksen Fischer Gallagher Horvath Ibrahim Jensen Kim Larsen
Mendez Nakamura Petrov Quinn Reyes Santos Tran Ulrich Varga Walsh Yilmaz Zhang Abbott Brennan Castillo Delgado
Evans Fontaine Greco Holm Iqbal Janssen Keller Lopez Mwangi Nilsen Ortiz Pham Ramos Silva Takahashi Weber""".split()
CITIES = """Lisbon Nairobi Osaka Denver Krakow Lyon Porto Austin Halifax Bergen Adelaide Tallinn Seville Leeds
Utrecht Gdansk Boise Quito Tunis Hanoi Perth Malmo Graz Bristol Dublin Oslo Leipzig Cork Bilbao Turin Fresno
Tulsa Omaha Dayton Galway Zagreb Riga Vilnius Ghent Bruges Aarhus Tampere Salzburg Innsbruck Geneva Basel
Valencia Malaga Naples Bologna Verona Marseille Nantes Toulouse Cardiff Glasgow Aberdeen Belfast Calgary
Winnipeg Ottawa Portland Seattle Tucson Phoenix Raleigh Madison Boston Chicago Detroit Memphis Nashville
Atlanta Miami Kyoto Busan Pune Jaipur Lagos Accra Cusco Santiago Montevideo Wellington Hobart""".split()
ORG_SUFFIXES = """Labs Foods Analytics Studio Partners Works Systems Supply Clinic Bakery Robotics Outfitters
Press Academy Logistics Consulting Gardens Media Brewing Dental""".split()
UNITS = """minutes hours days weeks months years kilograms grams litres metres centimetres pages steps users files
rows euros dollars servings miles laps sets reps""".split()
PERIODS = "week month year season weekend summer winter spring autumn quarter".split()
DAYS = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday tomorrow tonight".split()
DOCS = ["email", "summary", "poem", "blog post", "checklist", "report", "letter", "memo", "story", "review",
        "speech", "guide", "note", "proposal", "outline", "limerick", "product description", "cover letter"]
AUDIENCES = ["beginners", "children", "my manager", "new employees", "students", "retirees", "a local newspaper",
             "our customers", "the neighbours", "a small team", "volunteers", "first-year students",
             "my grandparents", "a job interview", "a school newsletter", "our investors"]
DETERMINERS = "the the the a a this that your my our their every each one another".split()
PREPOSITIONS = "near under over beside behind inside around across along against without with before after " \
               "during above below past toward".split()

# ----------------------------------------------------------------------------------------------
# English grammar. Slots: {n} noun, {ns} plural, {a} adjective, {adv}, {v} verb, {vs} 3rd person,
# {vd} past, {vp} participle, {vg} -ing, {det}, {prep}, {name}, {full} full name, {city}, {org},
# {num} 2-60, {big} 100-9999, {year}, {pct}, {unit}, {period}, {day}, {doc}, {aud}, {S} a sentence.
# ----------------------------------------------------------------------------------------------

OPENERS = """In most cases, | Usually, | For example, | In {year}, | Last {period}, | According to {full}, |
At {org}, | In {city}, | After {num} {unit}, | If you have a {a} {n}, | When the {n} is {a}, | To be honest, |
On the other hand, | As a rule, | Before you {v} the {n}, | With a {a} {n}, | Surprisingly, | In my experience, |
For a {a} {n}, | During the {n}, | Once the {n} {vs}, | By the time you {v} the {n}, | Without a {n}, |
In practice, | First, | Next, | Then, | Finally, | Meanwhile, | Historically, | For beginners, | At home, |
On average, | Unlike a {n}, | Like most {ns}, | Because the {n} is {a}, | Even with a {a} {n}, | Since {year}, |
Later, | As {name} likes to say, | Every {period}, | In a {a} {n}, | Oddly enough, | For the {ns} in {city},""".split("|")
CLAUSES = """the {n} {vs} {det} {a} {n} | you can {v} the {n} {adv} | {name} {vd} {num} {ns} in {city} |
it is {adv} {a} to {v} {det} {n} | most {ns} {v} better with a {a} {n} | a {a} {n} usually {vs} {det} {n} |
{det} {n} should be {a} enough to {v} the {n} | there are {num} {ns} that {v} the {n} |
we {vd} the {n} and {vd} the {ns} | the {ns} {v} {adv} when the {n} is {a} |
your {n} will {v} {det} {n} {prep} the {n} | {full} once {vd} a {a} {n} for {num} {unit} |
the main {n} is the {a} {n} | nobody {vs} the {n} {prep} {det} {n} | I would {v} the {ns} first |
this {vs} roughly {pct} of the {ns} | {ns} from {city} tend to be {a} | the team at {org} {vd} a {a} {n} in {year} |
a {a} {n} costs about {big} {unit} | the {a} {ns} are {adv} {a} |
the difference between a {n} and a {n} is the {n} | {vg} the {n} {vs} the {n} | a good {n} never {vs} the {n} |
some people {v} their {ns} every {num} {unit} | the {n} {vd} {adv} after {num} {unit} |
the {n} in {city} {vs} {num} {ns} | the best {ns} are {a} and {a} | if the {n} {vs}, {v} the {n} |
{name} {vs} that the {n} is {a} | each {n} needs its own {n} | a {a} {n} can {v} {det} {n} |
there is no need to {v} every {n} | the {ns} were {vp} by {full} | {det} {a} {n} helps you {v} the {ns} |
you should {v} the {n} before you {v} the {n} | the usual {n} for this is a {a} {n} |
keeping the {n} {a} makes the {n} {a} | {num} out of {big} {ns} {vd} the test | the {n} and the {n} {v} {adv} |
a {n} that {vs} the {n} is {a} | only {det} {n} {vs} {adv} | the {a} part is {vg} the {n} |
{ns} often {v} {prep} the {n} | it took {name} {num} {unit} to {v} the {n} | the {n} has been {vp} since {year} |
a {n} with a {a} {n} {vs} {adv} | many {ns} {v} the {n} without a {n} | my {n} {vd} the {a} {n} twice |
the {n} is {a}, but the {n} is {a} | {name} and {name} {vd} the {n} together | nothing {vs} a {a} {n} |
the cheapest option is to {v} a {n} | you will need a {n}, a {n} and {num} {ns} |
{full} wrote that {ns} {v} {ns} | the {n} looks {a} once you {v} it""".split("|")
TAILS = """before the {n} {vs} | without {vg} the {n} | in {city} | for about {num} {unit} | because the {n} is {a} |
with a {a} {n} | at the end of the {n} | every {num} {unit} | by {vg} the {n} first | unless the {n} is {a} |
so that the {ns} stay {a} | near the {n} | after {vg} the {ns} | as {name} suggested | in {year} |
on a {a} {n} | while the {n} {vs} | if the {n} allows it | for {det} {n} | under the {n} | instead of the {n} |
with {num} {ns} | and then {v} the {n} | until the {n} is {a} | from the {n} to the {n} | at {org} |
in under {num} {unit} | once a {period} | during the {n} | which {vs} the {n} | for {aud} |
on {day} | next to the {a} {n} | at least {num} times""".split("|")
QUESTIONS = """How do I {v} {det} {a} {n}? | What is the best way to {v} {ns} {tail}? |
Why does my {n} {v} when I {v} the {n}? | Can you explain the difference between a {n} and a {n}? |
Is it safe to {v} a {n} {tail}? | What should I do if the {n} {vs} {adv}? | How long does it take to {v} a {a} {n}? |
Which {n} would you recommend for {vg} {ns}? | Write a short {doc} about the {n} for {aud}. |
Give me {num} tips for {vg} a {n}. | Summarise how a {n} {vs} the {n}. | What are the pros and cons of a {a} {n}? |
How can I {v} my {ns} without a {n}? | Explain like I'm five: why do {ns} {v} {ns}? |
Could you help me {v} a {n} for my {n}? | Is a {a} {n} better than a {a} {n} for {vg} {ns}? |
What happens if you {v} the {n} {tail}? | How many {ns} do I need to {v} a {n}? |
My {n} keeps {vg} the {n}. What can I do? | Draft a {doc} to {name} about the {a} {n}. | List the steps to {v} a {n}. |
What does {full} mean by a {a} {n}? | When is the right time to {v} the {ns}? | Where can I find a {a} {n} in {city}? |
Compare {vg} the {n} with {vg} the {n}. | I need to {v} {num} {ns} by {day}. Where do I start? |
What is a {n}, and how does it {v} the {n}? | Should I {v} the {n} or {v} the {n} first? | Why is my {n} so {a}? |
Suggest a {a} name for a {n} that {vs} {ns}. | How do professionals {v} a {n}? | Can a {n} {v} a {n}? |
What is the history of the {n} in {city}? | Rewrite this sentence to sound more {a}: "{S}" |
Tell me about {vg} {ns} on a {a} budget. | Is there a rule of thumb for {vg} a {n}? |
What would you do with {num} {a} {ns}? | Help me plan a {period} of {vg} {ns}. | How often should I {v} my {n}? |
What is wrong with this plan: {S} | Please check my reasoning: {S} Does that hold up? |
Translate this into plain English for {aud}: "{S}" | Is it normal that the {n} {vs} {adv}? |
Why would anyone {v} a {a} {n}? | What do {ns} and {ns} have in common? | How did people {v} {ns} before {year}? |
Can you recommend a {a} {n} under {big} {unit}? | Where should the {n} go: {prep} the {n} or {prep} the {n}? |
Who first {vd} the {n}, and why? | Give me a {a} analogy for a {n}. | What is the cheapest way to {v} a {n}?""".split("|")
CONTEXT = """I have a {a} {n} and {num} {ns}. | My {n} is {a}. | We are {vg} {ns} at {org}. | I live in {city}. |
Last {period} I {vd} the {n}. | My friend {name} {vs} the {n} every {period}. | I am new to {vg} {ns}. |
Our {n} is about {num} years old. | The {n} at work is {a}. | I tried to {v} the {n} yesterday. |
For context, I {v} {ns} for a living. | Budget is tight, around {big} {unit}. | I only have {num} {unit}.""".split("|")
CONSTRAINTS = """Keep it under {big} words. | Please answer in {num} bullet points. | Use simple language. |
Be {a} but {a}. | No jargon, please. | Explain your reasoning. | Be specific. | A short answer is fine. |
Assume I know nothing about {ns}. | Mention any risks.""".split("|")
GREETINGS = ["Sure!", "Good question.", "Happy to help.", "Here is a quick overview.", "Great question!",
             "Absolutely.", "Let me explain.", "Of course.", "Here is what I would do.", "Short answer: it depends.",
             "Certainly!", "Glad you asked.", "Here you go.", "Good thinking.", "Alright, let us go through it."]
FOLLOW_UPS = """Thanks! And what about the {n}? | Can you make that shorter? | What if I do not have a {n}? |
Would this work in {city} too? | How does the {n} fit in? | Could you give one more example with {ns}? |
Is a {a} {n} fine instead? | Which step matters most?""".split("|")
SYSTEM_PROMPTS = [
    "You are a helpful assistant.",
    "You are a concise assistant. Answer briefly.",
    "You are a friendly expert who explains things clearly, gives practical steps, and avoids jargon unless "
    "the user asks for technical detail.",
    "You are ftk assistant, a careful and honest helper. If you are unsure about something, say so, and never "
    "invent facts, names or numbers.",
    "Answer as a patient teacher would: start with the main idea, then give one concrete example, and end with "
    "a short summary the user can remember.",
    "You are a support agent for a home and garden store. Be polite, keep answers practical, and suggest safe "
    "options first.",
]
SYNONYMS = {"how": "in what way", "best": "easiest", "explain": "describe", "short": "brief", "tips": "ideas",
            "safe": "okay", "help": "assist", "steps": "stages", "right": "best", "find": "get", "need": "want",
            "recommend": "suggest", "cheapest": "least expensive", "often": "frequently", "normal": "usual",
            "draft": "write", "write": "draft", "give": "send", "compare": "contrast", "list": "outline",
            "keeps": "continues", "first": "initially", "do": "can", "should": "must", "can": "could",
            "what": "which", "why": "how come", "please": "kindly", "tell": "show"}
FILLERS = ["Quick question:", "Hi!", "Hello, ", "Please help:", "Hey there.", "Question:", "Sorry to bother you,",
           "One more thing:", "I was wondering:"]

# ----------------------------------------------------------------------------------------------
# Foreign phrase banks: {n} a noun with its article, {num}, {city}, {name}
# ----------------------------------------------------------------------------------------------

FOREIGN = {
    "fr": {
        "nouns": "le jardin|la cuisine|le projet|la voiture|le marché|la maison|le voyage|la recette|le livre|"
                 "la réunion|le budget|la fenêtre|le vélo|la plage|le musée|la lettre|le rapport|l'équipe|"
                 "l'ordinateur|le téléphone|la boulangerie|le quartier|la gare|le concert|la montagne|le fromage|"
                 "la soupe|le client|la banque|le logiciel",
        "openers": "D'abord,|Ensuite,|En général,|À mon avis,|Bien sûr,|Pour être honnête,|Dans la plupart des cas,|"
                   "Hier soir,|Selon {name},|En fait,|Par ailleurs,|Enfin,",
        "sentences": "je pense que {n} est vraiment important pour nous.|il faut vérifier {n} avant de commencer.|"
                     "nous avons parlé de {n} pendant {num} minutes.|est-ce que tu peux m'aider avec {n} ?|"
                     "il est souvent plus simple de préparer {n} la veille.|"
                     "mon ami de {city} m'a conseillé de changer {n}.|"
                     "on peut améliorer {n} sans dépenser beaucoup d'argent.|"
                     "ce n'est pas une bonne idée de laisser {n} dehors.|"
                     "pour bien faire, il vaut mieux comparer {n} et {n}.|après {num} jours, {n} était enfin prêt.|"
                     "les enfants adorent {n}, surtout le week-end.|je voudrais savoir comment organiser {n}.|"
                     "il y a beaucoup de choses à dire sur {n}.|nous devons absolument nettoyer {n} cette semaine.|"
                     "elle a trouvé {n} très pratique et pas trop cher.|franchement, {n} ne me plaît pas du tout.|"
                     "quel est le meilleur moment pour réparer {n} ?|pourquoi {n} est-il toujours en retard ?|"
                     "tu devrais demander à {name} ce qu'il pense de {n}.|avec un peu de patience, {n} sera parfait.",
    },
    "de": {
        "nouns": "der Garten|die Küche|das Projekt|das Auto|der Markt|das Haus|die Reise|das Rezept|das Buch|"
                 "die Besprechung|das Budget|das Fenster|das Fahrrad|der Strand|das Museum|der Brief|der Bericht|"
                 "das Team|der Computer|das Telefon|die Bäckerei|das Viertel|der Bahnhof|das Konzert|der Berg|"
                 "der Käse|die Suppe|der Kunde|die Bank|die Software",
        "openers": "Ehrlich gesagt:|Kurz gesagt:|Übrigens:|Na ja,|Also,|Im Allgemeinen gilt:|Meiner Meinung nach gilt:|"
                   "Zum Beispiel:|Außerdem:|Schließlich:|Laut {name}:|Wichtig ist:",
        "sentences": "ich glaube, dass {n} für uns wirklich wichtig ist.|wir müssen {n} vor dem Start noch einmal prüfen.|"
                     "wir haben {num} Minuten lang über {n} gesprochen.|kannst du mir bitte mit {n} helfen?|"
                     "es ist oft einfacher, {n} am Vorabend vorzubereiten.|"
                     "mein Freund aus {city} hat mir geraten, {n} zu ändern.|"
                     "man kann {n} verbessern, ohne viel Geld auszugeben.|"
                     "es ist keine gute Idee, {n} draußen zu lassen.|"
                     "am besten vergleicht man {n} und {n} direkt miteinander.|nach {num} Tagen war {n} endlich fertig.|"
                     "die Kinder lieben {n}, besonders am Wochenende.|ich möchte wissen, wie man {n} am besten organisiert.|"
                     "über {n} gibt es sehr viel zu sagen.|wir sollten {n} diese Woche unbedingt sauber machen.|"
                     "sie fand {n} sehr praktisch und nicht zu teuer.|ehrlich gesagt gefällt mir {n} überhaupt nicht.|"
                     "wann ist die beste Zeit, um {n} zu reparieren?|warum ist {n} immer zu spät?|"
                     "du solltest {name} fragen, was er von {n} hält.|mit etwas Geduld wird {n} perfekt.",
    },
    "es": {
        "nouns": "el jardín|la cocina|el proyecto|el coche|el mercado|la casa|el viaje|la receta|el libro|la reunión|"
                 "el presupuesto|la ventana|la bicicleta|la playa|el museo|la carta|el informe|el equipo|"
                 "el ordenador|el teléfono|la panadería|el barrio|la estación|el concierto|la montaña|el queso|"
                 "la sopa|el cliente|el banco|el programa",
        "openers": "Primero,|Luego,|En general,|En mi opinión,|Claro,|La verdad es que|En la mayoría de los casos,|"
                   "Anoche,|Según {name},|De hecho,|Además,|Por último,",
        "sentences": "creo que {n} es muy importante para nosotros.|hay que revisar {n} antes de empezar.|"
                     "hablamos de {n} durante {num} minutos.|¿puedes ayudarme con {n}, por favor?|"
                     "muchas veces es más fácil preparar {n} la noche anterior.|"
                     "mi amigo de {city} me aconsejó cambiar {n}.|se puede mejorar {n} sin gastar mucho dinero.|"
                     "no es buena idea dejar {n} fuera de casa.|lo mejor es comparar {n} y {n} con calma.|"
                     "después de {num} días, {n} por fin estaba listo.|"
                     "a los niños les encanta {n}, sobre todo los fines de semana.|"
                     "quiero saber cómo organizar {n} de la mejor manera.|hay muchas cosas que decir sobre {n}.|"
                     "tenemos que limpiar {n} esta misma semana.|ella encontró {n} muy práctico y nada caro.|"
                     "sinceramente, {n} no me gusta nada.|¿cuál es el mejor momento para arreglar {n}?|"
                     "¿por qué {n} siempre llega tarde?|deberías preguntarle a {name} qué piensa de {n}.|"
                     "con un poco de paciencia, {n} quedará perfecto.",
    },
}
for _bank in FOREIGN.values():
    for _key in ("nouns", "openers", "sentences"):
        _bank[_key] = _bank[_key].split("|")
for _bank_name in ("OPENERS", "CLAUSES", "TAILS", "QUESTIONS", "CONTEXT", "CONSTRAINTS", "FOLLOW_UPS"):
    globals()[_bank_name] = [" ".join(p.split()) for p in globals()[_bank_name]]

_SLOT = re.compile(r"\{(\w+)\}")
_AN = re.compile(r"\b([Aa]) (?=[aeiouAEIOU])")


def plural(noun: str) -> str:
    if noun in IRREGULAR_PLURALS:
        return IRREGULAR_PLURALS[noun]
    if noun.endswith(("s", "sh", "ch", "x", "z")):
        return noun + "es"
    if noun.endswith("y") and noun[-2] not in "aeiou":
        return noun[:-1] + "ies"
    return noun + "s"


def third_person(verb: str) -> str:
    if verb.endswith(("s", "sh", "ch", "x", "z", "o")):
        return verb + "es"
    if verb.endswith("y") and verb[-2] not in "aeiou":
        return verb[:-1] + "ies"
    return verb + "s"


def past(verb: str, participle: bool = False) -> str:
    if verb in IRREGULAR_VERBS:
        return IRREGULAR_VERBS[verb][participle]
    if verb in DOUBLING:
        return verb + verb[-1] + "ed"
    if verb.endswith("e"):
        return verb + "d"
    if verb.endswith("y") and verb[-2] not in "aeiou":
        return verb[:-1] + "ied"
    return verb + "ed"


def gerund(verb: str) -> str:
    if verb in DOUBLING:
        return verb + verb[-1] + "ing"
    if verb.endswith("e") and not verb.endswith(("ee", "ye")):
        return verb[:-1] + "ing"
    return verb + "ing"


def capitalise(s: str) -> str:
    return s[:1].upper() + s[1:]


class Writer:
    """Composes English (and French/German/Spanish) text from the banks with one random.Random."""

    def __init__(self, rng: random.Random, system_share: float = SYSTEM_SHARE):
        self.rng = rng
        self.system_share = system_share
        self.topic: list[str] = ALL_NOUNS

    # -- slots
    def noun(self) -> str:
        return self.rng.choice(self.topic if self.rng.random() < 0.8 else ALL_NOUNS)

    def fill(self, template: str) -> str:
        r = self.rng

        def slot(m: re.Match) -> str:
            k = m.group(1)
            if k == "n":
                return self.noun()
            if k == "ns":
                return plural(self.noun())
            if k in ("v", "vs", "vd", "vp", "vg"):
                v = r.choice(VERBS)
                return {"v": v, "vs": third_person(v), "vd": past(v), "vp": past(v, True), "vg": gerund(v)}[k]
            simple = {"a": ADJECTIVES, "adv": ADVERBS, "det": DETERMINERS, "prep": PREPOSITIONS, "name": FIRST_NAMES,
                      "city": CITIES, "unit": UNITS, "period": PERIODS, "day": DAYS, "doc": DOCS, "aud": AUDIENCES}
            if k in simple:
                return r.choice(simple[k])
            if k == "full":
                return f"{r.choice(FIRST_NAMES)} {r.choice(LAST_NAMES)}"
            if k == "org":
                return f"{r.choice(LAST_NAMES)} {r.choice(ORG_SUFFIXES)}"
            if k == "num":
                return str(r.randint(2, 60))
            if k == "big":
                return str(r.choice([r.randint(100, 999), r.randint(1000, 9999), r.randint(10, 99) * 50]))
            if k == "year":
                return str(r.randint(1820, 2024))
            if k == "pct":
                return f"{r.randint(2, 95)} percent"
            if k == "tail":
                return self.fill(r.choice(TAILS))
            if k == "S":
                return self.sentence()
            raise KeyError(k)

        return _AN.sub(lambda m: m.group(1) + "n ", _SLOT.sub(slot, template))

    # -- English
    def sentence(self) -> str:
        r = self.rng
        parts = []
        if r.random() < 0.35:
            parts.append(r.choice(OPENERS))
        parts.append(r.choice(CLAUSES))
        if r.random() < 0.5:
            parts.append(r.choice(TAILS))
        return capitalise(self.fill(" ".join(parts))) + "."

    def question(self) -> str:
        r = self.rng
        parts = [self.fill(r.choice(CONTEXT)) if r.random() < 0.5 else self.sentence()
                 for _ in range(r.choice([0, 0, 1, 1, 1, 2, 3]))]
        parts.append(self.fill(r.choice(QUESTIONS)))
        if r.random() < 0.25:
            parts.append(self.fill(r.choice(CONSTRAINTS)))
        if r.random() < 0.3:  # the question first, context after, as people also write
            parts = parts[-1:] + parts[:-1] if len(parts) > 1 and r.random() < 0.5 else parts
        return " ".join(parts)

    def answer(self) -> str:
        r = self.rng
        style = r.choices(["prose", "list", "short"], weights=[5, 3, 2])[0]
        if style == "short":
            body = " ".join(self.sentence() for _ in range(r.randint(1, 2)))
        elif style == "list":
            items = [f"{i}. {self.sentence()}" for i in range(1, r.randint(3, 7) + 1)]
            body = "\n".join([self.sentence(), *items]) + ("\n\n" + self.sentence() if r.random() < 0.6 else "")
        else:
            paras = [" ".join(self.sentence() for _ in range(r.randint(2, 5))) for _ in range(r.randint(1, 3))]
            body = "\n\n".join(paras)
        if r.random() < 0.25:
            body = r.choice(GREETINGS) + " " + body
        return body

    def row(self, system: str | None = "random") -> dict:
        r = self.rng
        self.topic = TOPICS[r.choice(sorted(TOPICS))]
        msgs = []
        if system == "random":
            system = r.choice(SYSTEM_PROMPTS) if r.random() < self.system_share else None
        if system:
            msgs.append({"role": "system", "content": system})
        msgs += [{"role": "user", "content": self.question()}, {"role": "assistant", "content": self.answer()}]
        if r.random() < MULTI_TURN_SHARE:
            msgs += [{"role": "user", "content": self.fill(r.choice(FOLLOW_UPS))},
                     {"role": "assistant", "content": self.answer()}]
        return {"messages": msgs}

    # -- other languages
    def foreign_sentence(self, lang: str) -> str:
        bank, r = FOREIGN[lang], self.rng
        s = r.choice(bank["sentences"])
        s = _SLOT.sub(lambda m: {"n": lambda: r.choice(bank["nouns"]), "num": lambda: str(r.randint(2, 60)),
                                 "city": lambda: r.choice(CITIES), "name": lambda: r.choice(FIRST_NAMES)}[m.group(1)](), s)
        if r.random() < 0.4:
            opener = _SLOT.sub(lambda m: r.choice(FIRST_NAMES), r.choice(bank["openers"]))
            return f"{opener} {s}"
        return capitalise(s)

    def foreign_text(self, lang: str, lo: int, hi: int) -> str:
        return " ".join(self.foreign_sentence(lang) for _ in range(self.rng.randint(lo, hi)))


# ----------------------------------------------------------------------------------------------
# Edits
# ----------------------------------------------------------------------------------------------

_TOKENS = re.compile(r"(\s+)")
_EDGE = re.compile(r"^(\W*)(.*?)(\W*)$", re.DOTALL)


def edit_words(text: str, k: int, rng: random.Random, pick_word) -> str:
    """Apply k edits (replace, insert or delete a word) at random places; whitespace kept."""
    tokens = _TOKENS.split(text)  # words at even indexes, whitespace at odd ones
    words, spaces = tokens[0::2], tokens[1::2]
    for _ in range(k):
        live = [i for i, w in enumerate(words) if w]
        if not live:
            break
        i = rng.choice(live)
        lead, core, trail = _EDGE.match(words[i]).groups()
        op = rng.choice(["replace", "insert", "delete"]) if len(live) > 3 else "replace"
        if op == "delete" and (lead or trail):
            op = "replace"  # keep the punctuation where it was
        if op == "replace":
            new = pick_word()
            words[i] = lead + (capitalise(new) if core[:1].isupper() else new) + trail
        elif op == "insert":
            words[i] = words[i] + " " + pick_word()
        else:
            words[i] = ""
    out = []
    for i, w in enumerate(words):
        if w:
            out.append(w)
            if i < len(spaces):
                out.append(spaces[i])
    return "".join(out).rstrip()


def block_rewrite(text: str, k: int, writer: Writer) -> str:
    """Replace k consecutive words (at a random place) with as many fresh ones."""
    tokens = text.split(" ")
    if len(tokens) <= k:
        return writer.answer()
    start = writer.rng.randrange(0, len(tokens) - k + 1)
    fresh = " ".join(writer.sentence() for _ in range(4)).split(" ")[:k]
    return " ".join(tokens[:start] + fresh + tokens[start + k:])


def respace_recase(text: str, rng: random.Random) -> str:
    """A change exact matching must see through: case, doubled spaces, trailing whitespace."""
    choice = rng.randrange(4)
    if choice == 0:
        return text.upper() if len(text) < 200 else text.lower()
    if choice == 1:
        return text.replace(" ", "  ", rng.randint(1, 3))
    if choice == 2:
        return text + rng.choice([" ", "\n", "  \n"])
    return "  " + text.lower()


def strip_punct(text: str, rng: random.Random) -> str:
    """Drop or swap punctuation: the words (and so the word 3-grams) stay the same."""
    swaps = [(".", ""), ("?", ""), (",", ""), (".", "!"), ("?", "?!"), (":", " -")]
    out = text
    for old, new in rng.sample(swaps, 3):
        out = out.replace(old, new)
    return out if out != text else text + "!"


def word_count(msg_content: str) -> int:
    return len(msg_content.split())


# ----------------------------------------------------------------------------------------------
# Ground-truth helpers (independent of ftk's code)
# ----------------------------------------------------------------------------------------------

_WORD = re.compile(r"\w+")


def norm(text: str) -> str:
    return " ".join(text.split()).casefold()


def words(text: str) -> list[str]:
    return _WORD.findall(norm(text))


def shingle_set(row: dict) -> set:
    """Word 3-grams per turn, tagged with the role (a turn of fewer than 3 words: the whole turn)."""
    out = set()
    for m in row["messages"]:
        w = words(m["content"])
        if len(w) < 3:
            out.add((m["role"], *w))
        out.update((m["role"], *w[i:i + 3]) for i in range(len(w) - 2))
    return out


def jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


def minhash_flag_probability(j: float, threshold: float, num_perm: int = 128, bands: int = 16, rows: int = 8) -> float:
    """Chance that a MinHash + LSH detector built like ftk's flags a pair of true Jaccard j.

    Each of the num_perm signature values agrees with probability j; the pair is flagged when at
    least one of the `bands` bands of `rows` values agrees whole (an LSH candidate) and the share of
    agreeing values reaches the threshold. Given k agreeing values (binomial), they sit at random
    places, so P(some band agrees | k) follows by inclusion-exclusion over the bands.
    """
    from math import ceil, comb

    need = ceil(threshold * num_perm - 1e-9)
    total = 0.0
    for k in range(need, num_perm + 1):
        p_k = comb(num_perm, k) * j ** k * (1 - j) ** (num_perm - k)
        p_band = sum((-1) ** (m + 1) * comb(bands, m) * comb(num_perm - rows * m, k - rows * m)
                     for m in range(1, bands + 1) if rows * m <= k) / comb(num_perm, k)
        total += p_k * p_band
    return total


def lsh_shape(threshold: float, num_perm: int = 128) -> tuple[int, int]:
    """ftk's (bands, rows) for a threshold, when ftk is importable; (16, 8) otherwise."""
    try:
        from ftk.lint.near_dup import lsh_params
        return lsh_params(threshold, num_perm)
    except Exception:  # noqa: BLE001  (a bench: fall back to the documented shape at 0.8)
        return 16, 8


def row_norm(row: dict) -> tuple:
    return tuple((m["role"], norm(m["content"])) for m in row["messages"])


def prompt_norm(row: dict) -> tuple:
    return row_norm(row)[:-1]


def longest_shared_run(a: list[str], b: list[str]) -> int:
    """Longest run of consecutive words common to a and b (dynamic programming, O(len a x len b))."""
    best, prev = 0, [0] * (len(b) + 1)
    for x in a:
        cur = [0] * (len(b) + 1)
        for j, y in enumerate(b, 1):
            if x == y:
                cur[j] = prev[j - 1] + 1
                if cur[j] > best:
                    best = cur[j]
        prev = cur
    return best


def all_words(row: dict, system: bool = True) -> list[str]:
    return [w for m in row["messages"] if system or m["role"] != "system" for w in words(m["content"])]


# ----------------------------------------------------------------------------------------------
# Generation
# ----------------------------------------------------------------------------------------------

def set_last_answer(row: dict, text: str) -> dict:
    msgs = [dict(m) for m in row["messages"]]
    msgs[-1]["content"] = text
    return {"messages": msgs}


def map_turns(row: dict, fn, roles=("user", "assistant")) -> dict:
    return {"messages": [dict(m, content=fn(m["content"])) if m["role"] in roles else dict(m) for m in row["messages"]]}


def make_near(row: dict, level: tuple[str, str, float], w: Writer) -> dict:
    name, style, share = level
    r = w.rng
    if style == "punct":
        return map_turns(row, lambda t: strip_punct(t, r))
    if style == "greeting":
        msgs = [dict(m) for m in row["messages"]]
        last = msgs[-1]["content"]
        for g in GREETINGS:
            if last.startswith(g + " "):
                last = last[len(g) + 1:]
                break
        msgs[-1]["content"] = r.choice(GREETINGS) + " " + last
        return {"messages": msgs}
    total = sum(word_count(m["content"]) for m in row["messages"] if m["role"] != "system")
    k = max(1, round(share * total))
    if style == "block":
        return set_last_answer(row, block_rewrite(row["messages"][-1]["content"], k, w))
    # scatter: spread the k edits over the user and assistant turns in proportion to their length
    msgs = [dict(m) for m in row["messages"]]
    targets = [i for i, m in enumerate(msgs) if m["role"] != "system"]
    counts = Counter(r.choices(targets, weights=[word_count(msgs[i]["content"]) for i in targets], k=k))
    vocab = lambda: r.choice([r.choice(ADJECTIVES), w.noun(), r.choice(VERBS), r.choice(ADVERBS)])  # noqa: E731
    for i, c in counts.items():
        msgs[i]["content"] = edit_words(msgs[i]["content"], c, r, vocab)
    return {"messages": msgs}


def reword_prompt(row: dict, variant: str, r: random.Random) -> tuple[dict, str]:
    """The row's prompt (all turns but the last), reworded per variant; returns (row, variant used)."""
    msgs = [dict(m) for m in row["messages"]]
    users = [i for i, m in enumerate(msgs[:-1]) if m["role"] == "user"]
    i = users[-1]
    text = msgs[i]["content"]
    if variant == "case-space":
        msgs[i]["content"] = respace_recase(text, r)
    elif variant == "punct":
        msgs[i]["content"] = strip_punct(text, r)
    elif variant == "filler":
        keep = text.startswith(("I ", "I'm ", "My ")) or text[1:2].isupper()
        msgs[i]["content"] = r.choice(FILLERS).strip() + " " + (text if keep else text[0].lower() + text[1:])
    elif variant == "synonym":
        toks = text.split(" ")
        spots = [j for j, t in enumerate(toks) if _EDGE.match(t).group(2).lower() in SYNONYMS]
        if not spots:
            return reword_prompt(row, "filler", r)
        j = r.choice(spots)
        lead, core, trail = _EDGE.match(toks[j]).groups()
        new = SYNONYMS[core.lower()]
        toks[j] = lead + (capitalise(new) if core[:1].isupper() else new) + trail
        msgs[i]["content"] = " ".join(toks)
    return {"messages": msgs}, variant


def generate(rows: int, seed: int, out: Path, eval_rows: int | None = None, system_share: float = SYSTEM_SHARE) -> dict:
    """Write train.jsonl, eval.jsonl and manifest.json under `out`; return the manifest."""
    rng = random.Random(seed)
    w = Writer(rng, system_share)
    eval_rows = eval_rows if eval_rows is not None else max(60, rows // 10)
    counts = {k: round(v * rows) for k, v in SHARES.items()}
    ecounts = {k: round(v * eval_rows) for k, v in EVAL_SHARES.items()}
    n_derived = counts["exact"] + counts["near"] + counts["contradiction"]
    n_clean = rows - n_derived - counts["language"] - counts["language_control"]
    clean = [w.row() for _ in range(n_clean)]

    # Distinct clean source rows for every planted copy; sources are never reused.
    n_sources = n_derived + sum(ecounts[k] for k in ("exact", "near", "passage", "prompt", "near_miss"))
    pool = rng.sample(range(n_clean), min(n_clean, 2 * n_sources))  # spares: some eval kinds need long rows
    take = iter(pool)

    placed: list[tuple[float, dict, dict]] = [(float(i), row, {"kind": "clean", "id": i}) for i, row in enumerate(clean)]

    def after(src: int) -> float:
        return rng.uniform(src + 0.5, n_clean)

    plants = []
    for _ in range(counts["exact"]):
        s = next(take)
        variant = rng.choice(["verbatim", "case-space"])
        row = clean[s] if variant == "verbatim" else map_turns(clean[s], lambda t: respace_recase(t, rng), ("user", "assistant"))
        plants.append(("exact", variant, s, row))
    for j in range(counts["near"]):
        s = next(take)
        level = NEAR_LEVELS[j % len(NEAR_LEVELS)]
        plants.append(("near", level[0], s, make_near(clean[s], level, w)))
    for j in range(counts["contradiction"]):
        s = next(take)
        variant = CONTRA_VARIANTS[j % len(CONTRA_VARIANTS)]
        row, variant = reword_prompt(clean[s], variant, rng) if variant != "same" else (clean[s], "same")
        w.topic = TOPICS[rng.choice(sorted(TOPICS))]
        plants.append(("contradiction", variant, s, set_last_answer(row, w.answer())))
    for kind, variant, s, row in plants:
        placed.append((after(s), row, {"kind": kind, "variant": variant, "source": s}))

    for j in range(counts["language"]):
        lang = ["fr", "de", "es"][j % 3]
        variant = LANG_VARIANTS[j % len(LANG_VARIANTS)]
        if variant == "whole":
            row = {"messages": [{"role": "user", "content": w.foreign_text(lang, 1, 3)},
                                {"role": "assistant", "content": w.foreign_text(lang, 3, 8)}]}
        else:
            w.topic = TOPICS[rng.choice(sorted(TOPICS))]
            row = {"messages": [{"role": "user", "content": w.question()},
                                {"role": "assistant", "content": w.foreign_text(lang, 4, 8)}]}
        placed.append((rng.uniform(0, n_clean), row, {"kind": "language", "variant": f"{variant}-{lang}"}))
    for j in range(counts["language_control"]):
        lang = ["fr", "de", "es"][j % 3]
        row = w.row(system=None)
        quote = w.foreign_sentence(lang)
        body = row["messages"][-1]["content"]
        row["messages"][-1]["content"] = f'{body} As a friend from abroad once put it: "{quote}"'
        placed.append((rng.uniform(0, n_clean), row, {"kind": "language_control", "variant": lang}))

    placed.sort(key=lambda t: t[0])
    line_of_clean = {}
    for line, (_, _, meta) in enumerate(placed, 1):
        if meta["kind"] == "clean":
            line_of_clean[meta["id"]] = line
    train_planted = []
    for line, (_, _, meta) in enumerate(placed, 1):
        if meta["kind"] in ("exact", "near", "contradiction"):
            train_planted.append({"kind": meta["kind"], "variant": meta["variant"], "line": line,
                                  "partner": line_of_clean[meta["source"]]})
        elif meta["kind"] in ("language", "language_control"):
            train_planted.append({"kind": meta["kind"], "variant": meta["variant"], "line": line})

    # ---- eval file
    eval_items: list[tuple[dict, dict]] = []
    def first_user(row: dict) -> str:
        return next(m["content"] for m in row["messages"] if m["role"] == "user")

    def longest_turn(row: dict) -> list[str]:
        return max((m["content"].split() for m in row["messages"] if m["role"] != "system"), key=len)

    for kind in ("exact", "near", "passage", "prompt", "near_miss"):
        for j in range(ecounts[kind]):
            n = rng.randint(13, 30) if kind == "passage" else rng.randint(10, 12)
            s = next(take)
            if kind == "prompt":  # a source whose prompt is long enough for the 13-gram test
                while len(words(first_user(clean[s]))) < 13:
                    s = next(take)
            elif kind in ("passage", "near_miss"):
                while len(longest_turn(clean[s])) < n + 2:
                    s = next(take)
            src = clean[s]
            meta = {"kind": kind, "source_line": line_of_clean[s]}
            if kind == "exact":
                row = src if j % 2 == 0 else map_turns(src, lambda t: respace_recase(t, rng))
            elif kind == "near":
                level = [("greeting", "greeting", 0.0), ("scatter-2%", "scatter", 0.02),
                         ("scatter-5%", "scatter", 0.05), ("scatter-10%", "scatter", 0.10)][j % 4]
                row, meta["variant"] = make_near(src, level, w), level[0]
            elif kind == "prompt":  # the training prompt with a new answer
                row = {"messages": [{"role": "user", "content": first_user(src)}, {"role": "assistant", "content": w.answer()}]}
                meta["passage"] = first_user(src)
            else:  # passage / near_miss: n consecutive words of the source's longest turn in a fresh answer
                toks = longest_turn(src)
                start = rng.randrange(0, len(toks) - n + 1)
                passage = " ".join(toks[start:start + n])
                row = w.row()
                sentences = re.split(r"(?<=[.!?]) ", row["messages"][-1]["content"])
                at = rng.randrange(0, len(sentences) + 1)
                while True:
                    quote = f'As one source puts it: "{passage.rstrip(".")}".'
                    row["messages"][-1]["content"] = " ".join(sentences[:at] + [quote] + sentences[at:])
                    # A near miss must stay under 13 shared words, also where the words around the
                    # quote happen to continue it ("don't" counts as two words, too).
                    if kind == "passage" or longest_shared_run(all_words(row, system=False), all_words(src, system=False)) < 13:
                        break
                    passage = passage.rsplit(" ", 1)[0]
                meta["passage"] = passage
            eval_items.append((row, meta))
    for _ in range(eval_rows - len(eval_items)):
        eval_items.append((w.row(), {"kind": "clean"}))
    rng.shuffle(eval_items)
    eval_planted = [dict(meta, line=line) for line, (_, meta) in enumerate(eval_items, 1)]

    out.mkdir(parents=True, exist_ok=True)
    for name, items in (("train.jsonl", [row for _, row, _ in placed]), ("eval.jsonl", [row for row, _ in eval_items])):
        with open(out / name, "w", encoding="utf-8") as f:
            for row in items:
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
    manifest = {"rows": rows, "seed": seed, "eval_rows": eval_rows, "system_share": system_share, "counts": counts, "eval_counts": ecounts,
                "train": train_planted, "eval": eval_planted}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    return manifest


# ----------------------------------------------------------------------------------------------
# Running ftk
# ----------------------------------------------------------------------------------------------

def run_ftk(out: Path, threshold: float, select: str | None = None) -> tuple[dict, float]:
    """`ftk lint train.jsonl --against eval.jsonl` at a threshold; returns (JSON report, wall seconds)."""
    config = out / "empty-config.toml"
    config.write_text("[tool.ftk.lint]\n", encoding="utf-8")
    report = out / f"report_t{threshold:g}.json"
    cmd = [sys.executable, "-m", "ftk", "lint", str(out / "train.jsonl"), "--against", str(out / "eval.jsonl"),
           "--near-threshold", str(threshold), "--output-format", "json", "-o", str(report), "--exit-zero",
           "--no-progress", "--config", str(config)]
    if select:
        cmd += ["--select", select]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"ftk failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stderr[-3000:]}")
    return json.loads(report.read_text(encoding="utf-8")), seconds


# ----------------------------------------------------------------------------------------------
# Scoring
# ----------------------------------------------------------------------------------------------

def prf(tp: int, fp: int, fn: int) -> dict:
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    return {"tp": tp, "fp": fp, "fn": fn, "precision": round(p, 4), "recall": round(r, 4),
            "f1": round(2 * p * r / (p + r), 4) if p + r else 0.0}


def load_rows(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def trim(text: str, n: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[:n - 1] + "…"


def show_row(row: dict, n: int = 160) -> str:
    return " | ".join(f"{m['role'][0].upper()}: {trim(m['content'], 40 if m['role'] == 'system' else n)}" for m in row["messages"])


class Truth:
    """The generated files and manifest, with exact similarities computed on demand."""

    def __init__(self, out: Path, manifest: dict):
        self.train = load_rows(out / "train.jsonl")
        self.eval = load_rows(out / "eval.jsonl")
        self.train_path, self.eval_path = str(out / "train.jsonl"), str(out / "eval.jsonl")
        self.manifest = manifest
        self._sh: dict[int, set] = {}
        self.by_kind = defaultdict(list)
        for p in manifest["train"]:
            self.by_kind[p["kind"]].append(p)
        self.partner_of = defaultdict(set)  # line -> planted partner lines, per kind
        for p in manifest["train"]:
            if "partner" in p:
                self.partner_of[(p["kind"], p["line"])].add(p["partner"])
                self.partner_of[(p["kind"], p["partner"])].add(p["line"])

    def row(self, line: int) -> dict:
        return self.train[line - 1]

    def shingles(self, line: int) -> set:
        if line not in self._sh:
            self._sh[line] = shingle_set(self.row(line))
        return self._sh[line]

    def j(self, a: int, b: int) -> float:
        return jaccard(self.shingles(a), self.shingles(b))

    def short(self, line: int) -> bool:
        """Has a user or assistant turn of fewer than 8 words (ftk shingles those by characters)."""
        return any(len(words(m["content"])) < 8 for m in self.row(line)["messages"] if m["role"] != "system")

    def system(self, line: int) -> str | None:
        return next((m["content"] for m in self.row(line)["messages"] if m["role"] == "system"), None)


def findings_by_line(report: dict, path: str, codes: tuple[str, ...]) -> dict[int, list[dict]]:
    out = defaultdict(list)
    for d in report["diagnostics"]:
        if d["code"] in codes and d["path"] == path:
            out[d["line"]].append(d)
    return out


def related_lines(d: dict, path: str) -> set[int]:
    return {r["line"] for r in d.get("related") or () if r["path"] == path} - {d["line"]}


_SIM = re.compile(r"similarity (\d\.\d+)")


def score_exact(t: Truth, report: dict) -> dict:
    found = findings_by_line(report, t.train_path, ("FTK201",))
    planted = t.by_kind["exact"]
    tp = sum(any(p["partner"] in related_lines(d, t.train_path) for d in found.get(p["line"], ())) for p in planted)
    fns = [p for p in planted if not any(p["partner"] in related_lines(d, t.train_path) for d in found.get(p["line"], ()))]
    wrong = [(line, d) for line, ds in found.items() for d in ds
             if not any(row_norm(t.row(line)) == row_norm(t.row(r)) for r in related_lines(d, t.train_path))]
    res = prf(tp, len(wrong), len(planted) - tp)
    res["misses"] = [{"line": p["line"], "partner": p["partner"], "variant": p["variant"]} for p in fns[:5]]
    res["false_alarms"] = [{"line": line, "message": d["message"]} for line, d in wrong[:5]]
    return res


def near_pairs(t: Truth) -> list[dict]:
    return [dict(p, j=t.j(p["line"], p["partner"])) for p in t.by_kind["near"]]


def score_near(t: Truth, report: dict, cut: float = TRUTH_CUT, examples: bool = False) -> dict:
    flagged = findings_by_line(report, t.train_path, ("FTK203", "FTK201"))
    pairs = near_pairs(t)

    def found(p):
        return any(p["partner"] in related_lines(d, t.train_path) for d in flagged.get(p["line"], ()))

    positives = [p for p in pairs if p["j"] >= cut]
    tp = sum(found(p) for p in positives)
    # Precision: each FTK203 finding is right when a related row is truly >= cut similar to it.
    right = wrong = unplanted_right = 0
    false_alarms = []
    planted_lines = {p["line"] for p in pairs} | {p["partner"] for p in pairs}
    for line, ds in flagged.items():
        for d in ds:
            if d["code"] != "FTK203":
                continue
            rel = sorted(related_lines(d, t.train_path))[:50]
            best = max((t.j(line, r) for r in rel), default=0.0)
            if best >= cut:
                right += 1
                unplanted_right += line not in planted_lines
            else:
                wrong += 1
                if examples:
                    partner = min(rel, key=lambda r: -t.j(line, r))
                    false_alarms.append({"line": line, "partner": partner, "j": round(best, 3), "ftk": d["message"],
                                         "variant": next((p["variant"] for p in pairs if p["line"] == line), "unplanted"),
                                         "short_turn": t.short(line)})
    res = prf(0, 0, 0)
    p_ = right / (right + wrong) if right + wrong else 1.0
    r_ = tp / len(positives) if positives else 1.0
    res.update({"tp": tp, "fn": len(positives) - tp, "fp": wrong, "findings_right": right, "unplanted_right": unplanted_right,
                "precision": round(p_, 4), "recall": round(r_, 4), "f1": round(2 * p_ * r_ / (p_ + r_), 4) if p_ + r_ else 0.0,
                "positives": len(positives), "negatives": len(pairs) - len(positives)})
    if examples:
        buckets = [0, 0.5, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 1.01]
        table = []
        for lo, hi in zip(buckets, buckets[1:]):
            inb = [p for p in pairs if lo <= p["j"] < hi]
            table.append({"j_from": lo, "j_to": min(hi, 1.0), "pairs": len(inb), "flagged": sum(found(p) for p in inb)})
        res["by_j"] = table
        by_level = defaultdict(list)
        for p in pairs:
            by_level[p["variant"]].append(p)
        res["by_level"] = {lv: {"pairs": len(ps), "j_mean": round(sum(p["j"] for p in ps) / len(ps), 3),
                                "j_min": round(min(p["j"] for p in ps), 3), "j_max": round(max(p["j"] for p in ps), 3),
                                "positives": sum(p["j"] >= cut for p in ps), "flagged": sum(found(p) for p in ps)}
                           for lv, ps in sorted(by_level.items(), key=lambda kv: -sum(p["j"] for p in kv[1]) / len(kv[1]))}
        # What a detector like ftk's could reach on these pairs at best: the MinHash estimate's own
        # noise (and LSH's misses), with exactly the shingles the ground truth uses.
        thr = report["stats"].get("near_duplicates", {}).get("threshold", TRUTH_CUT)
        bands, band_rows = lsh_shape(thr)
        prob = [minhash_flag_probability(p["j"], thr, 128, bands, band_rows) for p in pairs]
        e_tp = sum(q for p, q in zip(pairs, prob) if p["j"] >= cut)
        e_fp = sum(q for p, q in zip(pairs, prob) if p["j"] < cut)
        e_p, e_r = e_tp / (e_tp + e_fp), e_tp / len(positives) if positives else 1.0
        res["minhash_ideal"] = {"precision": round(e_p, 4), "recall": round(e_r, 4), "f1": round(2 * e_p * e_r / (e_p + e_r), 4),
                                "fp": round(e_fp, 1), "fn": round(len(positives) - e_tp, 1), "bands": bands, "rows": band_rows}
        # What-if: the same LSH candidates, verified on the exact Jaccard of the shingle sets instead
        # of the signature estimate (no false alarms; misses only where LSH proposes nothing).
        x_r = sum(1 - (1 - p["j"] ** band_rows) ** bands for p in positives) / len(positives) if positives else 1.0
        res["exact_verify"] = {"precision": 1.0, "recall": round(x_r, 4), "f1": round(2 * x_r / (1 + x_r), 4)}
        # The same F1 without the pairs within 0.05 of the cut, where 128 permutations cannot tell
        # (the estimate's standard error at J = 0.8 is 0.035).
        far = [p for p in pairs if abs(p["j"] - cut) >= 0.05]
        far_lines = {p["line"] for p in far}
        ftp = sum(found(p) for p in far if p["j"] >= cut)
        ffp = sum(found(p) for p in far if p["j"] < cut)
        fpos = sum(p["j"] >= cut for p in far)
        res["outside_band"] = dict(prf(ftp, ffp, fpos - ftp), pairs=len(far), note="planted pairs with |J - cut| >= 0.05 only")
        res["outside_band"]["lines"] = len(far_lines)
        misses = [p for p in positives if not found(p)]
        res["misses"] = [{"line": p["line"], "partner": p["partner"], "j": round(p["j"], 3), "variant": p["variant"],
                          "ftk_sim": _ftk_sim(report, t, p), "short_turn": t.short(p["line"])} for p in misses]
        res["false_alarms"] = false_alarms
    return res


def _ftk_sim(report, t, p):
    for d in findings_by_line(report, t.train_path, ("FTK203",)).get(p["line"], ()):
        m = _SIM.search(d["message"])
        return m and float(m.group(1))
    return None


def score_contradiction(t: Truth, report: dict, examples: bool = False) -> dict:
    flagged = findings_by_line(report, t.train_path, ("FTK202", "FTK204"))
    planted = t.by_kind["contradiction"]

    def found(p):
        return any(p["partner"] in related_lines(d, t.train_path) for d in flagged.get(p["line"], ()))

    tp = sum(found(p) for p in planted)
    right = wrong = ambiguous = unplanted_right = 0
    false_alarms, ambiguous_examples = [], []
    copies = {(p["line"], p["partner"]) for k in ("near", "exact") for p in t.by_kind[k]}
    for line, ds in flagged.items():
        for d in ds:
            rel = related_lines(d, t.train_path)
            if rel & t.partner_of.get(("contradiction", line), set()):
                right += 1
            elif d["code"] == "FTK202" and any((line, r) in copies or (r, line) in copies for r in rel):
                ambiguous += 1  # a near copy whose edits missed the prompt: same prompt, other answer
                if examples and len(ambiguous_examples) < 5:
                    ambiguous_examples.append({"line": line, "related": sorted(rel), "ftk": d["message"]})
            elif d["code"] == "FTK202" and any(prompt_norm(t.row(line)) == prompt_norm(t.row(r)) for r in rel):
                right += 1  # two clean rows that happen to ask the very same short question
                unplanted_right += 1
            else:
                wrong += 1
                if examples:
                    other = sorted(rel)[0] if rel else None
                    false_alarms.append({"line": line, "code": d["code"], "related": sorted(rel), "ftk": d["message"],
                                         "kind": _kind_of(t, line), "other_kind": other and _kind_of(t, other),
                                         "cause": _contra_cause(t, line, other, copies),
                                         "prompt_j": other and round(_prompt_j(t, line, other), 3),
                                         "prompt_j_no_system": other and round(_prompt_j(t, line, other, system=False), 3)})
    p_ = right / (right + wrong) if right + wrong else 1.0
    r_ = tp / len(planted) if planted else 1.0
    res = {"tp": tp, "fn": len(planted) - tp, "fp": wrong, "findings_right": right, "unplanted_right": unplanted_right,
           "ambiguous": ambiguous,
           "precision": round(p_, 4), "recall": round(r_, 4), "f1": round(2 * p_ * r_ / (p_ + r_), 4) if p_ + r_ else 0.0}
    if examples:
        by_var = defaultdict(lambda: [0, 0])
        for p in planted:
            by_var[p["variant"]][0] += 1
            by_var[p["variant"]][1] += found(p)
        res["by_variant"] = {k: {"pairs": v[0], "found": v[1]} for k, v in by_var.items()}
        misses = []
        for p in planted:
            if found(p):
                continue
            a = t.row(p["line"])
            users = [m for m in a["messages"][:-1] if m["role"] == "user"]
            misses.append({"line": p["line"], "partner": p["partner"], "variant": p["variant"],
                           "prompt_j": round(_prompt_j(t, p["line"], p["partner"]), 3),
                           "prompt_words": sum(len(words(m["content"])) for m in users)})
        res["misses"] = misses
        res["false_alarms"] = false_alarms
        res["ambiguous_examples"] = ambiguous_examples
        res["false_alarm_causes"] = dict(Counter(f["cause"] for f in false_alarms))
    return res


def _prompt_j(t: Truth, a: int, b: int, system: bool = True) -> float:
    def prompt(line):
        msgs = t.row(line)["messages"][:-1]
        return {"messages": [m for m in msgs if system or m["role"] != "system"]}
    return jaccard(shingle_set(prompt(a)), shingle_set(prompt(b)))


def _contra_cause(t: Truth, a: int, b: int | None, copies: set) -> str:
    if b is None:
        return "other"
    if (a, b) in copies or (b, a) in copies:
        return "near copy, answer edited"
    sa = t.system(a)
    if sa and sa == t.system(b):
        return "shared system prompt + same question frame"
    return "same question frame"


def _kind_of(t: Truth, line: int) -> str:
    for p in t.manifest["train"]:
        if p["line"] == line:
            return f"{p['kind']}:{p['variant']}"
        if p.get("partner") == line:
            return f"source of {p['kind']}:{p['variant']}"
    return "clean"


def score_leakage(t: Truth, report: dict, examples: bool = False) -> dict:
    hits = {d["line"]: d for d in report["diagnostics"] if d["code"] == "FTK205" and d["path"] == t.eval_path}
    tp = fp = fn = 0
    by_kind = defaultdict(lambda: [0, 0])
    misses, false_alarms = [], []
    for e in t.manifest["eval"]:
        pos = e["kind"] in EVAL_POSITIVE
        hit = e["line"] in hits
        by_kind[e["kind"]][0] += 1
        by_kind[e["kind"]][1] += hit
        tp += pos and hit
        fn += pos and not hit
        fp += hit and not pos
        if examples and pos and not hit:
            misses.append(dict(e, words=len(all_words(t.eval[e["line"] - 1]))))
        if examples and hit and not pos:
            d = hits[e["line"]]
            train_line = int(d["message"].rsplit(":", 1)[1])
            erow, trow = t.eval[e["line"] - 1], t.row(train_line)
            sys_e = next((m["content"] for m in erow["messages"] if m["role"] == "system"), None)
            sys_t = next((m["content"] for m in trow["messages"] if m["role"] == "system"), None)
            if sys_e and sys_e == sys_t:
                cause = ("shared system prompt" if len(words(sys_e)) >= 13 else
                         "shared short system prompt + question opening (13-gram across the turn boundary)")
            else:
                cause = "other"
            false_alarms.append({"eval_line": e["line"], "kind": e["kind"], "train_line": train_line, "cause": cause,
                                 "ftk": d["message"]})
    res = prf(tp, fp, fn)
    res["by_kind"] = {k: {"rows": v[0], "flagged": v[1]} for k, v in by_kind.items()}
    if examples:
        res["misses"] = misses
        res["false_alarms"] = false_alarms
        res["false_alarm_causes"] = dict(Counter(f["cause"] for f in false_alarms))
    return res


def score_language(t: Truth, report: dict, examples: bool = False) -> dict:
    flagged = {d["line"]: d for d in report["diagnostics"] if d["code"] == "FTK601" and d["path"] == t.train_path}
    planted = {p["line"]: p for p in t.by_kind["language"]}
    tp = sum(line in flagged for line in planted)
    fp_lines = [line for line in flagged if line not in planted]
    res = prf(tp, len(fp_lines), len(planted) - tp)
    by_var = defaultdict(lambda: [0, 0])
    for line, p in planted.items():
        by_var[p["variant"]][0] += 1
        by_var[p["variant"]][1] += line in flagged
    res["by_variant"] = {k: {"rows": v[0], "flagged": v[1]} for k, v in sorted(by_var.items())}
    controls = [p["line"] for p in t.by_kind["language_control"]]
    res["controls_flagged"] = sum(line in flagged for line in controls)
    res["controls"] = len(controls)
    if examples:
        res["misses"] = [dict(planted[line], text=show_row(t.row(line), 120)) for line in planted if line not in flagged][:8]
        res["false_alarms"] = [{"line": line, "kind": _kind_of(t, line), "ftk": flagged[line]["message"],
                                "text": show_row(t.row(line), 120)} for line in fp_lines][:8]
    return res


def check_bookkeeping(t: Truth) -> dict:
    """The manifest against the files: counts, and that each planted copy is what it claims to be."""
    m = t.manifest
    got = Counter(p["kind"] for p in m["train"])
    problems = []
    for kind, n in m["counts"].items():
        if got[kind] != n:
            problems.append(f"{kind}: {got[kind]} planted, {n} asked for")
    for p in t.by_kind["exact"]:
        if row_norm(t.row(p["line"])) != row_norm(t.row(p["partner"])) or p["line"] <= p["partner"]:
            problems.append(f"exact line {p['line']} is not a later copy of {p['partner']}")
    for p in t.by_kind["near"]:
        if p["line"] <= p["partner"]:
            problems.append(f"near line {p['line']} is not after {p['partner']}")
    for p in t.by_kind["contradiction"]:
        a, b = t.row(p["line"]), t.row(p["partner"])
        if row_norm(a)[-1] == row_norm(b)[-1]:
            problems.append(f"contradiction line {p['line']} has its partner's answer")
        if p["variant"] in ("same", "case-space") and prompt_norm(a) != prompt_norm(b):
            problems.append(f"contradiction line {p['line']} ({p['variant']}) changed the normalised prompt")
    ekinds = Counter(e["kind"] for e in m["eval"])
    for kind, n in m["eval_counts"].items():
        if ekinds[kind] != n:
            problems.append(f"eval {kind}: {ekinds[kind]} planted, {n} asked for")
    for e in m["eval"]:
        if e["kind"] in ("passage", "prompt", "near_miss"):
            run = longest_shared_run(all_words(t.eval[e["line"] - 1], system=False), all_words(t.row(e["source_line"]), system=False))
            e_ok = run >= 13 if e["kind"] != "near_miss" else run < 13
            if not e_ok:
                problems.append(f"eval line {e['line']} ({e['kind']}): longest shared run {run} words")
    if len(t.train) != m["rows"] or len(t.eval) != m["eval_rows"]:
        problems.append("row counts differ from the manifest")
    return {"train_planted": dict(got), "eval_planted": dict(ekinds), "problems": problems}


def score(out: Path, manifest: dict, reports: dict[float, tuple[dict, float]]) -> dict:
    t = Truth(out, manifest)
    results = {"rows": manifest["rows"], "eval_rows": manifest["eval_rows"], "seed": manifest["seed"],
               "system_share": manifest.get("system_share"),
               "bookkeeping": check_bookkeeping(t), "runs": {}}
    for thr, (report, seconds) in sorted(reports.items()):
        main = thr == TRUTH_CUT
        run = {"seconds": round(seconds, 2), "ftk_seconds": report["summary"].get("seconds"),
               "by_rule": {k: v for k, v in report["summary"]["by_rule"].items() if k.startswith(("FTK2", "FTK6"))},
               "exact": score_exact(t, report),
               "near": score_near(t, report, TRUTH_CUT, examples=main),
               "near_vs_truth": {str(c): {k: v for k, v in score_near(t, report, c).items() if k in ("precision", "recall", "f1")}
                                 for c in (0.7, 0.8, 0.9)},
               "contradiction": score_contradiction(t, report, examples=main),
               "leakage": score_leakage(t, report, examples=main)}
        if any(d["code"] == "FTK601" for d in report["diagnostics"]) or "FTK601" in report["summary"]["by_rule"] or main:
            run["language"] = score_language(t, report, examples=main)
        results["runs"][f"{thr:g}"] = run
    return results


# ----------------------------------------------------------------------------------------------
# Output
# ----------------------------------------------------------------------------------------------

def tables(res: dict) -> str:
    lines = []
    main = res["runs"].get(f"{TRUTH_CUT:g}")
    if main:
        lines += [f"### Default threshold ({TRUTH_CUT}), {res['rows']} training rows, {res['eval_rows']} eval rows, seed {res['seed']}, "
                  f"system prompts on {res['system_share']:.0%} of rows",
                  "", "| kind | rules | TP | FP | FN | precision | recall | F1 |", "|---|---|---:|---:|---:|---:|---:|---:|"]
        for key, rules in (("exact", "FTK201"), ("near", "FTK203 (+FTK201)"), ("contradiction", "FTK202 ∪ FTK204"),
                           ("leakage", "FTK205"), ("language", "FTK601")):
            s = main[key]
            lines.append(f"| {key} | {rules} | {s['tp']} | {s['fp']} | {s['fn']} | "
                         f"{s['precision']:.3f} | {s['recall']:.3f} | {s['f1']:.3f} |")
        lines += ["", f"ftk wall time: {main['seconds']:.1f} s (ftk's own count {main['ftk_seconds']} s), all rules."]
        n = main["near"]
        lines += ["", f"Near-duplicate pairs: {n['positives']} with J ≥ {TRUTH_CUT} (should be flagged), {n['negatives']} below; "
                  f"{n['findings_right']} FTK203 findings right ({n['unplanted_right']} of them on unplanted pairs), {n['fp']} wrong.",
                  "", f"- Ideal MinHash detector on the same pairs (128 permutations, "
                  f"LSH {n['minhash_ideal']['bands']}x{n['minhash_ideal']['rows']}, "
                  f"exactly the ground-truth shingles; expected values): P {n['minhash_ideal']['precision']:.3f}, "
                  f"R {n['minhash_ideal']['recall']:.3f}, F1 {n['minhash_ideal']['f1']:.3f} "
                  f"({n['minhash_ideal']['fp']} FP, {n['minhash_ideal']['fn']} FN expected).",
                  f"- The same LSH candidates verified on the exact Jaccard instead of the estimate (what-if): "
                  f"P 1.000, R {n['exact_verify']['recall']:.3f}, F1 {n['exact_verify']['f1']:.3f}.",
                  f"- ftk on the {n['outside_band']['pairs']} planted pairs with |J − 0.8| ≥ 0.05: P {n['outside_band']['precision']:.3f}, "
                  f"R {n['outside_band']['recall']:.3f}, F1 {n['outside_band']['f1']:.3f} "
                  f"(FP {n['outside_band']['fp']}, FN {n['outside_band']['fn']}).",
                  "", "| edit level | pairs | exact J mean (min–max) | J ≥ 0.8 | flagged |", "|---|---:|---|---:|---:|"]
        for lv, s in n["by_level"].items():
            lines.append(f"| {lv} | {s['pairs']} | {s['j_mean']:.3f} ({s['j_min']:.2f}–{s['j_max']:.2f}) | "
                         f"{s['positives']} | {s['flagged']} |")
        lines += ["", "| exact J | pairs | flagged | share |", "|---|---:|---:|---:|"]
        for b in n["by_j"]:
            if b["pairs"]:
                lines.append(f"| [{b['j_from']:.2f}, {b['j_to']:.2f}) | {b['pairs']} | {b['flagged']} | {b['flagged'] / b['pairs']:.2f} |")
        c = main["contradiction"]
        lines += ["", f"Contradictions: {c['findings_right']} findings right ({c['unplanted_right']} of them FTK202 on clean rows that "
                  f"happen to ask the same short question), {c['fp']} wrong, {c['ambiguous']} FTK202 findings "
                  "on near copies with an untouched prompt (left out of precision). Wrong findings by cause: "
                  + (", ".join(f"{k}: {v}" for k, v in c["false_alarm_causes"].items()) or "none") + ".", "",
                  "| prompt variant | pairs | found |", "|---|---:|---:|"]
        for k in CONTRA_VARIANTS:
            if k in c["by_variant"]:
                lines.append(f"| {k} | {c['by_variant'][k]['pairs']} | {c['by_variant'][k]['found']} |")
        lk = main["leakage"]
        lines += ["", "| eval rows | rows | flagged by FTK205 |", "|---|---:|---:|"]
        for k in (*EVAL_POSITIVE, "near_miss", "clean"):
            if k in lk["by_kind"]:
                label = f"{k} ({'positive' if k in EVAL_POSITIVE else 'negative'})"
                lines.append(f"| {label} | {lk['by_kind'][k]['rows']} | {lk['by_kind'][k]['flagged']} |")
        if lk.get("false_alarm_causes"):
            lines += ["", "False alarms by cause: " + ", ".join(f"{k}: {v}" for k, v in lk["false_alarm_causes"].items())]
        lg = main["language"]
        lines += ["", "| language rows | rows | flagged |", "|---|---:|---:|"]
        for k, v in lg["by_variant"].items():
            lines.append(f"| {k} | {v['rows']} | {v['flagged']} |")
        lines.append(f"| English with a quoted foreign sentence (negative) | {lg['controls']} | {lg['controls_flagged']} |")
    if len(res["runs"]) > 1:
        lines += ["", "### --near-threshold sweep (FTK201-FTK205 only; ground truth fixed at J ≥ 0.8)", "",
                  "| threshold | near P | near R | near F1 | contra P | contra R | contra F1 | leak P | leak R | leak F1 | ftk s |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for thr, r in res["runs"].items():
            n, c, lk = r["near"], r["contradiction"], r["leakage"]
            lines.append(f"| {thr} | {n['precision']:.3f} | {n['recall']:.3f} | {n['f1']:.3f} | {c['precision']:.3f} | {c['recall']:.3f} | "
                         f"{c['f1']:.3f} | {lk['precision']:.3f} | {lk['recall']:.3f} | {lk['f1']:.3f} | {r['seconds']:.1f} |")
        lines += ["", "Near-duplicate F1 by ftk threshold (rows) against the ground-truth cut (columns):", "",
                  "| ftk threshold | truth J ≥ 0.7 | truth J ≥ 0.8 | truth J ≥ 0.9 |", "|---|---:|---:|---:|"]
        for thr, r in res["runs"].items():
            v = r["near_vs_truth"]
            lines.append(f"| {thr} | {v['0.7']['f1']:.3f} | {v['0.8']['f1']:.3f} | {v['0.9']['f1']:.3f} |")
    b = res["bookkeeping"]
    lines += ["", f"Bookkeeping: planted {b['train_planted']} in train, {b['eval_planted']} in eval; "
              f"{'no problems' if not b['problems'] else 'PROBLEMS: ' + '; '.join(b['problems'][:10])}."]
    return "\n".join(lines)


def examples_text(res: dict, out: Path, k: int = 3) -> str:
    """A few misses and false alarms of each kind, with the texts, for the write-up."""
    t = Truth(out, json.loads((out / "manifest.json").read_text()))
    main = res["runs"][f"{TRUTH_CUT:g}"]
    lines = []
    for kind in ("near", "contradiction", "leakage", "language", "exact"):
        s = main[kind]
        for what in ("misses", "false_alarms", "ambiguous_examples"):
            items = s.get(what) or []
            if not items:
                continue
            lines.append(f"--- {kind} {what} ({len(items)}):")
            for it in items[:k]:
                lines.append("  " + json.dumps({k_: v for k_, v in it.items() if k_ != "text"}, ensure_ascii=False))
                if kind in ("near", "contradiction", "exact") and "line" in it:
                    lines.append(f"    line {it['line']}: {show_row(t.row(it['line']))}")
                    other = it.get("partner") or (it.get("related") or [None])[0]
                    if other:
                        lines.append(f"    line {other}: {show_row(t.row(other))}")
                elif kind == "leakage":
                    el = it.get("eval_line") or it.get("line")
                    lines.append(f"    eval {el}: {show_row(t.eval[el - 1])}")
                    tl = it.get("train_line") or it.get("source_line")
                    if tl:
                        lines.append(f"    train {tl}: {show_row(t.row(tl))}")
                elif "text" in it:
                    lines.append(f"    {it['text']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=20000, help="training rows (default 20000)")
    ap.add_argument("--eval-rows", type=int, default=None, help="eval rows (default rows/10, at least 60)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=None, help="output folder (default bench/out/quality/rows{N}_seed{S})")
    ap.add_argument("--system-share", type=float, default=SYSTEM_SHARE,
                    help=f"share of rows with one of the shared system prompts (default {SYSTEM_SHARE})")
    ap.add_argument("--thresholds", default="0.7,0.8,0.9", help="--near-threshold values to run (0.8 runs every rule)")
    ap.add_argument("--no-sweep", action="store_true", help="run the default threshold only")
    ap.add_argument("--examples", type=int, default=3, help="misses / false alarms of each kind to print")
    ap.add_argument("--score-only", action="store_true", help="re-score the files and reports of an earlier run in --out")
    ap.add_argument("--quiet", action="store_true", help="print nothing (for tests)")
    args = ap.parse_args(argv)
    default = f"rows{args.rows}_seed{args.seed}" + (f"_system{args.system_share:g}" if args.system_share != SYSTEM_SHARE else "")
    out = args.out or Path(__file__).resolve().parent / "out" / "quality" / default
    say = (lambda *a: None) if args.quiet else (lambda *a: print(*a, flush=True))

    t0 = time.perf_counter()
    if args.score_only:
        manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    else:
        manifest = generate(args.rows, args.seed, out, args.eval_rows, args.system_share)
        say(f"generated {args.rows} + {manifest['eval_rows']} rows in {time.perf_counter() - t0:.1f} s -> {out}")
    thresholds = [TRUTH_CUT] if args.no_sweep else sorted({float(x) for x in args.thresholds.split(",")} | {TRUTH_CUT})
    reports = {}
    timings = out / "timings.json"
    for thr in thresholds:
        if args.score_only:  # the reports of an earlier run of the same command
            seconds = json.loads(timings.read_text())[f"{thr:g}"]
            reports[thr] = json.loads((out / f"report_t{thr:g}.json").read_text(encoding="utf-8")), seconds
            continue
        select = None if thr == TRUTH_CUT else "FTK201,FTK202,FTK203,FTK204,FTK205"
        reports[thr] = run_ftk(out, thr, select)
        say(f"ftk lint at --near-threshold {thr:g}: {reports[thr][1]:.1f} s")
    if not args.score_only:
        timings.write_text(json.dumps({f"{thr:g}": sec for thr, (_, sec) in reports.items()}))
    res = score(out, manifest, reports)
    (out / "results.json").write_text(json.dumps(res, indent=1, ensure_ascii=False), encoding="utf-8")
    say("")
    say(tables(res))
    if args.examples and not args.quiet:
        say("")
        say(examples_text(res, out, args.examples))
    return res


if __name__ == "__main__":
    main()

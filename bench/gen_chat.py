"""Generate a seeded, realistic OpenAI-chat JSONL file with a known share of planted defects.

    python bench/gen_chat.py --rows 100000 --seed 0 --out bench/out/chat.jsonl \
        --manifest bench/out/chat.manifest.json

Clean rows are English conversations built from templates and per-topic word lists: a user prompt
of 10-80 words (a question, one specific detail with numbers, names or places, and some context),
an answer of 30-400 words (prose, a numbered list, or an explanation around a code block),
sometimes a system prompt, sometimes a follow-up exchange. Every clean prompt is unique, so the
only exact duplicates and contradictions in the file are the planted ones; the details keep clean
prompts from being near-copies of each other too (ftk's FTK203/FTK204 find a few dozen rows per
100k). Planted, at fixed shares of the rows (see SHARES):

- duplicate:     a copy of an earlier clean row, verbatim or with case / whitespace changes (FTK201)
- contradiction: an earlier clean row's prompt with a new answer (FTK202)
- language:      a whole row in French, German or Spanish, from small phrase banks (FTK601)
- schema:        a broken row: invalid JSON, missing or mistyped fields, bad roles … (FTK0xx/FTK1xx)
- secret:        an API key or token pasted into the user's prompt (FTK501)
- pii:           a real-looking e-mail address or phone number in the prompt (FTK503/FTK504)

plus a negative control, `reserved_email` (an address at example.com, which must not be flagged).
The manifest (--manifest) lists the planted line numbers per kind, with details and the rule codes
a linter is expected to raise, for a quality scorer.

Speed: answer sentences are drawn from per-topic pools built once at start-up, so a row costs a few
`random` calls and one json.dumps; 100k rows (149 MiB) take about 8 CPU-seconds. Stdlib only.
Deterministic for a given seed (one random.Random drives everything; no set or hash-order
iteration), whatever PYTHONHASHSEED.
"""

from __future__ import annotations

import argparse
import json
import random
import string
import sys
import time
from pathlib import Path
from typing import TextIO

# Share of rows per planted kind. Counts are round(share * rows), placed at random lines.
SHARES = {
    "duplicate": 0.02,
    "contradiction": 0.01,
    "language": 0.01,
    "schema": 0.005,
    "secret": 0.002,
    "pii": 0.003,
    "reserved_email": 0.001,  # negative control: not a defect
}
EXPECTED_CODES = {
    "duplicate": ["FTK201"],
    # FTK202 on the planted row and on the row it contradicts; multi-turn ones, whose earlier answers
    # are shared, are also near-duplicates of it (FTK203).
    "contradiction": ["FTK202"],
    "language": ["FTK601"],
    "secret": ["FTK501"],
    "pii": ["FTK503", "FTK504"],  # one of them, by detail
    "reserved_email": [],
}
# Schema/structure defects: name -> the code ftk should raise for it.
SCHEMA_KINDS = {
    "invalid-json": "FTK001",
    "not-an-object": "FTK002",
    "other-format": "FTK007",
    "missing-content": "FTK008",
    "content-not-string": "FTK010",
    "unknown-message-key": "FTK011",
    "unknown-role": "FTK101",
    "system-not-first": "FTK102",
    "roles-not-alternating": "FTK103",
    "no-assistant-turn": "FTK104",
    "empty-assistant": "FTK106",
    "assistant-first": "FTK107",
}
FIRST_PLANTED_LINE = 50  # duplicates and contradictions need earlier clean rows to copy

# ---------------------------------------------------------------------------------------------
# English banks. Each topic fills the same slots; templates below combine them.

TOPICS = {
    "python": dict(
        concepts=["list comprehensions", "decorators", "generators", "virtual environments", "type hints",
                  "context managers", "async functions", "dataclasses", "unit tests", "exception handling"],
        tasks=["read a large CSV file", "speed up a slow loop", "parse command-line arguments",
               "structure a small project", "handle missing values", "write cleaner functions",
               "package a library", "log errors properly", "call a REST API", "profile my script"],
        tools=["pandas", "pytest", "the standard library", "pip", "the debugger", "a linter", "Jupyter"],
        problems=["memory errors", "circular imports", "confusing stack traces", "slow start-up times",
                  "flaky tests", "dependency conflicts", "silent failures"],
        things=["the function", "the module", "each test", "the loop", "the script", "your code"],
        subjects=["a programmer who refuses to write tests", "the first day at a new job", "a bug that only appears on Fridays"],
        code="python",
    ),
    "web": dict(
        concepts=["CSS grid", "server-side rendering", "HTTP caching", "cookies and sessions", "web accessibility",
                  "REST versus GraphQL", "content security policy", "responsive layouts", "web sockets"],
        tasks=["center a div", "make my site load faster", "build a contact form", "deploy a static site",
               "store user sessions", "optimise images", "handle form validation", "set up HTTPS"],
        tools=["React", "a CDN", "the browser dev tools", "Nginx", "TypeScript", "a bundler", "Lighthouse"],
        problems=["layout shifts", "CORS errors", "slow page loads", "broken links", "cache invalidation bugs",
                  "mixed content warnings"],
        things=["the page", "the component", "the stylesheet", "each request", "the server", "the layout"],
        subjects=["a website that never finished loading", "the life of an HTTP request"],
        code="javascript",
    ),
    "data": dict(
        concepts=["overfitting", "cross-validation", "gradient descent", "feature scaling", "p-values",
                  "the bias-variance trade-off", "principal component analysis", "confusion matrices",
                  "regularisation", "time series forecasting"],
        tasks=["clean a messy dataset", "choose a model", "evaluate a classifier", "visualise a distribution",
               "join two tables", "detect outliers", "explain my results to managers", "tune hyperparameters"],
        tools=["scikit-learn", "SQL", "a spreadsheet", "matplotlib", "a notebook", "PyTorch"],
        problems=["data leakage", "class imbalance", "missing labels", "noisy measurements",
                  "results that do not reproduce", "skewed samples"],
        things=["the model", "the dataset", "each feature", "the validation set", "the chart", "the pipeline"],
        subjects=["a dataset with a secret", "the last row of a spreadsheet"],
        code="sql",
    ),
    "cooking": dict(
        concepts=["braising", "sourdough starters", "emulsions", "the Maillard reaction", "meal prepping",
                  "fermentation", "knife skills", "seasoning to taste", "resting meat"],
        tasks=["make fluffy pancakes", "cook rice without burning it", "bake bread at home",
               "plan meals for a week", "make a simple tomato sauce", "keep herbs fresh",
               "cook for a large group", "roast vegetables evenly"],
        tools=["a cast-iron pan", "a slow cooker", "a kitchen scale", "an instant-read thermometer", "a stand mixer"],
        problems=["soggy vegetables", "dense bread", "bland sauces", "burnt garlic", "dry chicken", "lumpy batter"],
        things=["the dough", "the sauce", "the pan", "each batch", "the oven", "the recipe"],
        subjects=["a grandmother's secret recipe", "a kitchen disaster that turned out well"],
        code=None,
    ),
    "finance": dict(
        concepts=["compound interest", "index funds", "emergency funds", "credit scores", "inflation",
                  "asset allocation", "dollar-cost averaging", "tax-advantaged accounts", "budgeting"],
        tasks=["save money each month", "pay off credit card debt", "start investing", "build a budget",
               "plan for retirement", "reduce monthly bills", "negotiate a raise", "track my spending"],
        tools=["a budgeting app", "a spreadsheet", "a robo-advisor", "a high-yield savings account", "an index fund"],
        problems=["impulse spending", "high interest rates", "irregular income", "hidden fees",
                  "lifestyle inflation", "unexpected expenses"],
        things=["the budget", "your plan", "each account", "the portfolio", "the first step", "your savings"],
        subjects=["a coin that wanted to be spent", "the first paycheck"],
        code=None,
    ),
    "travel": dict(
        concepts=["travel insurance", "jet lag", "off-season travel", "rail passes", "packing light",
                  "visa requirements", "slow travel", "local etiquette"],
        tasks=["plan a two-week trip to Japan", "travel on a tight budget", "pack for a long weekend",
               "find cheap flights", "avoid tourist traps", "travel with small children",
               "stay safe while travelling alone", "plan a road trip"],
        tools=["a packing list", "an offline map", "a travel credit card", "public transport apps", "a guidebook"],
        problems=["lost luggage", "missed connections", "overbooked hotels", "language barriers",
                  "unexpected fees", "exhaustion"],
        things=["the itinerary", "the trip", "each day", "the budget", "your bag", "the route"],
        subjects=["a train that never arrived", "a town on no map"],
        code=None,
    ),
    "health": dict(
        concepts=["progressive overload", "sleep hygiene", "stretching", "hydration", "interval training",
                  "mindfulness", "posture", "recovery days", "balanced nutrition"],
        tasks=["start running", "build a workout routine", "sleep better", "reduce stress at work",
               "eat more vegetables", "improve my posture", "stay motivated to exercise", "drink more water"],
        tools=["a habit tracker", "a foam roller", "a simple journal", "a training plan", "a water bottle"],
        problems=["sore muscles", "low energy", "poor sleep", "back pain", "losing motivation", "skipped meals"],
        things=["the routine", "your body", "each session", "the habit", "the plan", "the first week"],
        subjects=["a runner who started at sixty", "a morning without a phone"],
        code=None,
    ),
    "history": dict(
        concepts=["the Industrial Revolution", "the fall of the Roman Empire", "the printing press",
                  "the Silk Road", "the Renaissance", "the Cold War", "the French Revolution", "feudalism"],
        tasks=["study for a history exam", "write a history essay", "evaluate a primary source",
               "remember important dates", "compare two historical periods", "research my family history"],
        tools=["primary sources", "a timeline", "library archives", "historical maps", "a good textbook"],
        problems=["biased sources", "conflicting accounts", "missing records", "oversimplified narratives",
                  "anachronisms"],
        things=["the period", "the source", "each event", "the argument", "the essay", "the timeline"],
        subjects=["a letter found in an old book", "a day in a medieval market"],
        code=None,
    ),
    "science": dict(
        concepts=["black holes", "photosynthesis", "plate tectonics", "the speed of light", "natural selection",
                  "quantum entanglement", "the water cycle", "climate feedback loops", "DNA replication"],
        tasks=["explain gravity to a child", "set up a simple experiment", "read a scientific paper",
               "understand orders of magnitude", "measure something accurately", "prepare for a physics exam"],
        tools=["a telescope", "a lab notebook", "a simple model", "peer-reviewed journals", "a calculator"],
        problems=["measurement errors", "confusing units", "misleading headlines", "small sample sizes",
                  "untested assumptions"],
        things=["the experiment", "the theory", "each measurement", "the result", "the model", "the hypothesis"],
        subjects=["the last star in the universe", "a scientist who proved herself wrong"],
        code=None,
    ),
    "career": dict(
        concepts=["networking", "a strong CV", "the STAR interview method", "time blocking", "feedback culture",
                  "remote work", "personal branding", "career changes"],
        tasks=["prepare for a job interview", "write a cover letter", "ask for feedback", "manage my time",
               "give a good presentation", "lead my first team meeting", "write clearer emails",
               "switch careers at thirty"],
        tools=["a calendar", "a shared document", "a mentor", "a to-do list", "LinkedIn"],
        problems=["procrastination", "unclear priorities", "too many meetings", "imposter syndrome",
                  "vague job descriptions", "burnout"],
        things=["the interview", "the letter", "each task", "the meeting", "your week", "the presentation"],
        subjects=["an interview that went strangely well", "the last day before retirement"],
        code=None,
    ),
}

SYSTEM_PROMPTS = [
    "You are a helpful assistant.",
    "You are a helpful, concise assistant. Answer clearly and avoid unnecessary detail.",
    "You are a friendly tutor who explains things step by step.",
    "You are an expert assistant. Give accurate, practical answers.",
    "You are a patient teacher. Use simple language and short examples.",
    "Answer as a knowledgeable assistant. If you are unsure, say so.",
    "You are a helpful assistant that writes in a warm, encouraging tone.",
    "You are a senior engineer helping a colleague. Be direct and practical.",
]

QUESTIONS = [
    "How do I {task} when I am working with {tool}?",
    "Can you explain {concept} in simple terms?",
    "What is the difference between {concept} and {concept2}?",
    "What are the best ways to {task}?",
    "I keep running into {problem}. What should I check first?",
    "Could you give me a step-by-step guide to {task}?",
    "Is it worth learning about {concept} if I only want to {task}?",
    "Why does {concept} matter, and how does it relate to {concept2}?",
    "Write a short story about {subject}.",
    "Write a short poem about {subject}.",
    "What are common mistakes people make when they try to {task}?",
    "How would you use {tool} to {task}?",
    "Can you summarise the main ideas behind {concept}?",
    "What should a beginner know before they {task}?",
]
CONTEXTS = [
    "I am a beginner and I have about an hour a day for this.",
    "I have tried {tool} already, but I am not sure I used it correctly.",
    "My last attempt ended with {problem}, so I want to get it right this time.",
    "I am asking because my team wants to {task} next month.",
    "Please keep the answer short and practical.",
    "Examples would really help, since I learn best by doing.",
    "I read a little about {concept} online, but the explanations were confusing.",
    "I do not have much money to spend on this.",
    "A friend told me that {concept} is overrated, and I would like a second opinion.",
    "I need this for a presentation on Friday.",
    "I am especially worried about {problem}.",
    "Could you also mention anything I should avoid?",
    "I have some experience, so you can skip the very basics.",
    "This is for a personal project, not for work.",
]
# Specifics every real prompt has (numbers, people, places, dates). Two or three free slots each,
# so that prompts built on the same question and context are not near-duplicates (FTK203/FTK204
# compare word 3-grams; without these, templated prompts collide by the thousand).
DETAILS = [
    "I have about {n} hours a week for this, mostly on {weekday} evenings.",
    "My {relation} {name} suggested I ask here before spending {n} euros on a course.",
    "I live in {city} and started looking into this one {weekday} in {month}.",
    "The deadline is {weekday} the {day}th, and I am maybe {pct} percent done.",
    "So far {name} and I have spent {n} {unit} on it without much to show.",
    "I am {age} years old and have been at this for {m} months.",
    "Our team is {n} people, and {m} of them joined in {month}.",
    "Last {weekday} I tried for {n} minutes and then gave up.",
    "{name} from my {group} says it took them {m} weeks to get comfortable.",
    "We are {m} people based in {city}, so anything that works there by {month} is ideal.",
    "I made {m} attempts in {month}, and the best one was about {pct} percent right.",
    "My budget is around {n} dollars, and {name} will help on {weekday}.",
]
NAMES = ["Anna", "Ben", "Carlos", "Dana", "Elif", "Farah", "George", "Hana", "Ivan", "Julia", "Kofi", "Leila",
         "Marco", "Nadia", "Omar", "Paula", "Quinn", "Rosa", "Sam", "Tariq", "Uma", "Victor", "Wen", "Yusuf", "Zoe"]
CITIES = ["Leeds", "Toronto", "Austin", "Dublin", "Melbourne", "Denver", "Cape Town", "Glasgow", "Portland",
          "Auckland", "Bristol", "Chicago", "Manchester", "Ottawa", "Seattle", "Perth", "Cardiff", "Boston"]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]
RELATIONS = ["sister", "brother", "manager", "colleague", "neighbour", "friend", "cousin", "teacher", "partner"]
GROUPS = ["book club", "office", "running group", "class", "team", "evening course", "family", "meetup"]
UNITS = ["hours", "evenings", "weekends", "days", "weeks"]

FOLLOW_UPS = [
    "Thanks! Could you give me a concrete example that I could try today?",
    "That helps. What would you do differently if I also had to deal with {problem}?",
    "Can you go into more detail on the second point? I did not quite follow it.",
    "How does this change if I use {tool} instead of what you suggested?",
    "Great, and how long does it usually take before I see real results?",
    "What is the most common mistake people make at this stage, and how do I avoid it?",
]
INTROS = [
    "Good question. Here is how I would approach it.",
    "Sure! Here is a clear overview.",
    "Happy to help with that.",
    "Great question, and a very common one.",
    "Here is a practical way to think about it.",
    "Let me break this down into a few parts.",
    "Short answer: it depends, but here is a useful way to decide.",
]
SENTENCES = [
    "The key idea behind {concept} is that it helps you {task} without running into {problem}.",
    "In practice, most people start with {tool} because it is easy to set up and well documented.",
    "If you are new to {concept}, think of it as a way to organise {thing} so that small mistakes stay small.",
    "A common mistake is to ignore {problem} until it is too late to fix cheaply.",
    "Before you change anything, look closely at {thing} and write down what you expect to happen.",
    "It is usually better to make one small change at a time, so you can see which one made the difference.",
    "{Concept} and {concept2} are related, but they solve different problems.",
    "When people talk about {concept}, they often mean the general principle rather than a specific technique.",
    "Make sure {thing} is simple enough that you could explain it to a friend in two minutes.",
    "If you notice {problem}, the first thing to check is whether {thing} is doing what you think it is.",
    "You do not need {tool} to get started, but it saves a lot of time once the work grows.",
    "There is no single right answer here, and the best choice depends on your goals and constraints.",
    "A good rule of thumb is to keep {thing} small and to test it early.",
    "Many experienced people still rely on {tool} for exactly this reason.",
    "It also helps to keep short notes, because you will forget the details sooner than you expect.",
    "Once that works, you can gradually add more detail and try to {task}.",
    "The trade-off is that you spend a little more time up front and much less time fixing problems later.",
    "Do not worry if the first attempt is not perfect, since almost nobody gets it right the first time.",
    "Try to measure the result instead of guessing, even if the measurement is rough.",
    "This approach works well for most people, although some situations call for something more specialised.",
    "Remember that {concept} is a tool, not a goal in itself.",
    "If you have to {task} regularly, it is worth turning the steps into a checklist.",
    "The main reason this matters is that {problem} tends to get worse over time if nobody deals with it.",
    "Ask yourself what would happen if {thing} failed, and plan for that case first.",
    "You can compare the options by trying each one on a small example for a day or two.",
    "As you gain experience, you will find that {concept} becomes second nature.",
    "One useful habit is to review {thing} at the end of each week and note what worked.",
    "Some people prefer {tool}, while others find that it gets in the way, so try it and decide for yourself.",
    "Be careful with shortcuts here, because they often lead straight to {problem}.",
    "The most important thing is consistency: a little progress every day adds up quickly.",
    "For example, if you want to {task}, begin with the smallest version that could possibly work.",
    "Keep in mind that {tool} is only as useful as the habits around it.",
    "It is tempting to skip this step, but {problem} is much easier to prevent than to repair.",
    "In my experience, the people who succeed here are the ones who check {thing} early and often.",
    "{Concept} sounds complicated at first, but the underlying idea is surprisingly simple.",
    "If time is short, focus on {concept} first and leave {concept2} for later.",
    "Write down what you tried and what happened, because patterns only show up over several attempts.",
    "There are many guides on {concept}, and most of them agree on the basics.",
    "If something feels wrong, pause and compare {thing} with a version that you know works.",
    "You will probably need to adjust this advice to your own situation, and that is perfectly normal.",
]
STEP_LINES = [
    "Start with {thing} and make sure you understand what it needs to do.",
    "Set up {tool} and try it on a small example.",
    "Check for {problem} before you go any further.",
    "Apply {concept} to one part first, then extend it to the rest.",
    "Review the result and write down what you would change next time.",
    "Ask someone else to look at {thing} with fresh eyes.",
    "Repeat the process until you can {task} without looking at your notes.",
    "Keep a short log so you can see your progress over the weeks.",
]
CLOSINGS = [
    "Let me know if you would like more detail on any of these points.",
    "I hope this helps, and good luck!",
    "If you share more about your situation, I can give more specific advice.",
    "Feel free to ask if anything is unclear.",
    "With a bit of practice, this will quickly feel natural.",
]
CODE_SNIPPETS = {
    "python": [
        "import csv\n\ndef {name}(path):\n    with open(path, newline=\"\") as f:\n        for row in csv.DictReader(f):\n"
        "        yield row\n\nfor row in {name}(\"data.csv\"):\n    print(row)",
        "from dataclasses import dataclass\n\n@dataclass\nclass {Name}:\n    name: str\n    count: int = 0\n\n"
        "    def add(self, n: int) -> None:\n        self.count += n",
        "def {name}(items):\n    seen = set()\n    for item in items:\n        if item not in seen:\n"
        "            seen.add(item)\n            yield item",
        "import logging\n\nlogging.basicConfig(level=logging.INFO)\nlog = logging.getLogger(__name__)\n\n"
        "def {name}():\n    log.info(\"starting\")",
    ],
    "javascript": [
        "async function {name}(url) {{\n  const res = await fetch(url);\n  if (!res.ok) throw new Error(res.status);\n"
        "  return res.json();\n}}",
        ".container {{\n  display: grid;\n  place-items: center;\n  min-height: 100vh;\n}}",
        "const {name} = (items) => items\n  .filter((x) => x.active)\n  .map((x) => x.name);",
    ],
    "sql": [
        "SELECT customer_id, COUNT(*) AS orders\nFROM orders\nWHERE created_at >= '2024-01-01'\n"
        "GROUP BY customer_id\nORDER BY orders DESC\nLIMIT 10;",
        "SELECT a.id, a.name, b.total\nFROM accounts a\nLEFT JOIN {name} b ON b.account_id = a.id;",
    ],
}
CODE_NAMES = ["load_rows", "unique", "fetch_json", "summarise", "parse_args", "clean_data", "get_totals", "inventory"]

# ---------------------------------------------------------------------------------------------
# Other languages: small phrase banks, whole real sentences with a few slots.

FOREIGN = {
    "fr": dict(
        concepts=["la photosynthèse", "l'inflation", "la programmation orientée objet", "la Révolution française",
                  "l'apprentissage automatique", "le réchauffement climatique", "la gestion du stress"],
        tasks=["préparer une bonne pâte à crêpes", "apprendre une nouvelle langue", "économiser de l'argent chaque mois",
               "organiser un voyage en Italie", "améliorer mon sommeil", "écrire une lettre de motivation",
               "commencer à courir régulièrement"],
        questions=["Comment puis-je {task} ?", "Pouvez-vous m'expliquer {concept} en termes simples ?",
                   "Quelle est la différence entre {concept} et {concept2} ?",
                   "Quels sont vos meilleurs conseils pour {task} ?",
                   "J'aimerais savoir comment {task} sans y passer des heures."],
        cities=["Lyon", "Marseille", "Toulouse", "Bordeaux", "Lille", "Nantes", "Strasbourg", "Rennes"],
        details=["J'ai {age} ans et j'habite à {city}.", "J'y consacre environ {n} heures par semaine.",
                 "J'ai déjà lu {n} articles sur le sujet, sans grand succès.",
                 "Mon cours commence dans {n} jours, à {city}."],
        contexts=["Je suis étudiant et je n'ai pas beaucoup de temps libre.",
                  "J'ai déjà essayé plusieurs méthodes, mais rien ne fonctionne vraiment.",
                  "Merci de répondre de façon claire et concise.",
                  "C'est pour un projet personnel, pas pour le travail.",
                  "Je débute complètement dans ce domaine."],
        sentences=["Il est important de commencer par des objectifs simples et réalistes.",
                   "Ensuite, vous pouvez progresser étape par étape en notant vos résultats.",
                   "Beaucoup de personnes font l'erreur de vouloir aller trop vite au début.",
                   "Le plus important est d'être régulier, même si les progrès semblent lents.",
                   "Voici quelques conseils pratiques qui devraient vous aider.",
                   "N'hésitez pas à demander de l'aide à des personnes plus expérimentées.",
                   "En général, il faut compter quelques semaines avant de voir une vraie différence.",
                   "Cette méthode est simple, mais elle donne de très bons résultats.",
                   "Pensez aussi à prendre des pauses et à bien vous reposer.",
                   "Si vous voulez {task}, il vaut mieux commencer le matin, quand vous êtes reposé.",
                   "Tout le monde connaît {concept} de nom, mais peu de gens savent vraiment ce que cela veut dire.",
                   "Pour bien comprendre {concept}, il faut d'abord connaître quelques notions de base.",
                   "Chaque situation est différente, donc adaptez ces conseils à vos besoins.",
                   "Avec un peu de patience, vous verrez rapidement des progrès."],
        closings=["J'espère que cela vous aidera !", "Si vous avez d'autres questions, je serai ravi de vous aider.",
                  "Bon courage et bonne continuation !"],
    ),
    "de": dict(
        concepts=["die Photosynthese", "die Inflation", "die objektorientierte Programmierung",
                  "die Französische Revolution", "das maschinelle Lernen", "den Klimawandel", "das Zeitmanagement"],
        tasks=["einen guten Hefeteig machen", "eine neue Sprache lernen", "jeden Monat Geld sparen",
               "eine Reise nach Italien planen", "besser schlafen", "ein Bewerbungsschreiben verfassen",
               "regelmäßig joggen gehen"],
        questions=["Wie kann ich {task}?", "Kannst du mir {concept} einfach erklären?",
                   "Was sollte ich über {concept} wissen, bevor ich mich mit Details beschäftige?",
                   "Was sind deine besten Tipps, um {task_zu}?",
                   "Ich möchte wissen, wie ich {task} kann, ohne zu viel Zeit zu verlieren."],
        cities=["Berlin", "München", "Hamburg", "Köln", "Leipzig", "Dresden", "Bremen", "Stuttgart"],
        details=["Ich bin {age} Jahre alt und wohne in {city}.", "Ich habe etwa {n} Stunden pro Woche dafür Zeit.",
                 "Ich habe schon {n} Artikel darüber gelesen, leider ohne großen Erfolg.",
                 "Mein Kurs in {city} beginnt in {n} Tagen."],
        contexts=["Ich bin Student und habe nicht viel Zeit.",
                  "Ich habe schon einiges ausprobiert, aber nichts hat wirklich funktioniert.",
                  "Bitte antworte kurz und verständlich.",
                  "Das ist für ein privates Projekt, nicht für die Arbeit.",
                  "Ich bin in diesem Bereich ein völliger Anfänger."],
        sentences=["Am besten beginnst du mit kleinen und realistischen Zielen.",
                   "Danach kannst du Schritt für Schritt weitermachen und deine Fortschritte notieren.",
                   "Viele Menschen machen den Fehler, am Anfang zu schnell vorgehen zu wollen.",
                   "Das Wichtigste ist, regelmäßig dranzubleiben, auch wenn die Fortschritte langsam sind.",
                   "Hier sind einige praktische Tipps, die dir helfen sollten.",
                   "Scheue dich nicht, erfahrene Leute um Hilfe zu bitten.",
                   "In der Regel dauert es ein paar Wochen, bis man einen echten Unterschied merkt.",
                   "Diese Methode ist einfach, aber sie bringt sehr gute Ergebnisse.",
                   "Denk auch daran, Pausen zu machen und dich gut zu erholen.",
                   "Wenn du {task} willst, fängst du am besten morgens an, wenn du ausgeruht bist.",
                   "Man spricht oft über {concept}, aber nur wenige wissen wirklich, was das bedeutet.",
                   "Um {concept} zu verstehen, sollte man zuerst ein paar Grundlagen kennen.",
                   "Jede Situation ist anders, also passe diese Tipps an deine Bedürfnisse an.",
                   "Mit etwas Geduld wirst du schnell Fortschritte sehen."],
        closings=["Ich hoffe, das hilft dir weiter!", "Wenn du noch Fragen hast, helfe ich dir gerne.",
                  "Viel Erfolg dabei!"],
    ),
    "es": dict(
        concepts=["la fotosíntesis", "la inflación", "la programación orientada a objetos", "la Revolución francesa",
                  "el aprendizaje automático", "el cambio climático", "la gestión del estrés"],
        tasks=["preparar una buena masa para crepes", "aprender un idioma nuevo", "ahorrar dinero cada mes",
               "organizar un viaje a Italia", "dormir mejor", "escribir una carta de presentación",
               "empezar a correr con regularidad"],
        questions=["¿Cómo puedo {task}?", "¿Puedes explicarme {concept} de forma sencilla?",
                   "¿Cuál es la diferencia entre {concept} y {concept2}?",
                   "¿Cuáles son tus mejores consejos para {task}?",
                   "Me gustaría saber cómo {task} sin perder demasiado tiempo."],
        cities=["Madrid", "Sevilla", "Valencia", "Bilbao", "Málaga", "Zaragoza", "Granada", "Salamanca"],
        details=["Tengo {age} años y vivo en {city}.", "Le dedico unas {n} horas a la semana.",
                 "Ya he leído {n} artículos sobre el tema, sin mucho éxito.",
                 "Mi curso en {city} empieza dentro de {n} días."],
        contexts=["Soy estudiante y no tengo mucho tiempo libre.",
                  "Ya he probado varios métodos, pero ninguno ha funcionado de verdad.",
                  "Por favor, responde de forma clara y breve.",
                  "Es para un proyecto personal, no para el trabajo.",
                  "Soy principiante en este tema."],
        sentences=["Lo más importante es empezar con objetivos sencillos y realistas.",
                   "Después, puedes avanzar paso a paso y anotar tus resultados.",
                   "Mucha gente comete el error de querer ir demasiado rápido al principio.",
                   "La clave es ser constante, aunque el progreso parezca lento.",
                   "Aquí tienes algunos consejos prácticos que te pueden ayudar.",
                   "No dudes en pedir ayuda a personas con más experiencia.",
                   "Normalmente hacen falta unas semanas para notar una diferencia real.",
                   "Este método es sencillo, pero da muy buenos resultados.",
                   "Recuerda también tomar descansos y descansar bien.",
                   "Si quieres {task}, es mejor empezar por la mañana, cuando estás descansado.",
                   "Mucha gente menciona {concept}, pero pocos saben de verdad lo que significa.",
                   "Para entender bien {concept}, primero hay que conocer algunas nociones básicas.",
                   "Cada situación es distinta, así que adapta estos consejos a tus necesidades.",
                   "Con un poco de paciencia, verás progresos muy pronto."],
        closings=["¡Espero que te sirva de ayuda!", "Si tienes más preguntas, estaré encantado de ayudarte.",
                  "¡Mucho ánimo y suerte!"],
    ),
}
FIRST_NAMES = ["james", "maria", "wei", "fatima", "olivia", "lucas", "priya", "noah", "sofia", "kenji"]
LAST_NAMES = ["smith", "garcia", "chen", "khan", "johnson", "rossi", "patel", "müller", "silva", "tanaka"]
MAIL_DOMAINS = ["gmail.com", "outlook.com", "yahoo.co.uk", "proton.me", "acme-corp.io", "uni-hamburg.de"]
ALNUM = string.ascii_letters + string.digits
UPPER_DIGITS = string.ascii_uppercase + string.digits


class Generator:
    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.random = self.rng.random  # hot paths index with random() directly: ~3x cheaper than choice()
        self.seen_prompts: set[str] = set()  # normalised first user turn: keeps clean prompts unique
        # Pools of filled-in answer sentences per topic, built once: rows then cost a sample() call.
        # Each entry keeps its template's index, so that one answer never repeats a template.
        self.pools = {name: [(s, len(s.split()), i) for i, tpl in enumerate(SENTENCES)
                             for s in (self.fill(tpl, t) for _ in range(12))]
                      for name, t in TOPICS.items()}
        self.topic_names = list(TOPICS)

    def pick(self, seq):
        return seq[int(self.random() * len(seq))]

    # -- English -------------------------------------------------------------------------------

    def fill(self, template: str, topic: dict) -> str:
        pick, concepts = self.pick, topic["concepts"]
        i = int(self.random() * len(concepts))
        j = (i + 1 + int(self.random() * (len(concepts) - 1))) % len(concepts)  # a different concept
        concept = concepts[i]
        return template.format(
            concept=concept, Concept=concept[0].upper() + concept[1:], concept2=concepts[j],
            task=pick(topic["tasks"]), tool=pick(topic["tools"]), problem=pick(topic["problems"]),
            thing=pick(topic["things"]), subject=pick(topic["subjects"]),
        )

    def words_target(self, median: float, lo: int, hi: int) -> int:
        # Lengths in real chat data are roughly log-normal: many short texts, a long tail.
        return max(lo, min(hi, round(self.rng.lognormvariate(0, 0.6) * median)))

    def detail(self) -> str:
        pick, rnd = self.pick, self.rng.randrange
        return self.pick(DETAILS).format(
            n=rnd(2, 400), m=rnd(2, 40), pct=rnd(5, 96), day=rnd(4, 29), age=rnd(16, 75), name=pick(NAMES),
            city=pick(CITIES), weekday=pick(WEEKDAYS), month=pick(MONTHS), relation=pick(RELATIONS),
            group=pick(GROUPS), unit=pick(UNITS))

    def user_prompt(self, topic: dict) -> str:
        target = self.words_target(32, 10, 80)
        parts = [self.fill(self.pick(QUESTIONS), topic)]
        parts.insert(0 if self.random() < 0.3 else 1, self.detail())  # one specific detail, always
        n = sum(len(p.split()) for p in parts)
        while n < target:  # context sentences, before or after the question, up to the target length
            c = self.fill(self.pick(CONTEXTS), topic)
            if c in parts or n + len(c.split()) > 80:
                break
            parts.insert(0 if self.random() < 0.4 else len(parts), c)
            n += len(c.split())
        text = " ".join(parts)
        # Unique prompts: on a clash, add another context sentence until the prompt is new.
        while text.casefold() in self.seen_prompts:
            text += " " + self.fill(self.pick(CONTEXTS), topic)
        self.seen_prompts.add(text.casefold())
        return text

    def answer(self, topic_name: str) -> str:
        rng, topic, random = self.rng, TOPICS[topic_name], self.random
        target = self.words_target(150, 30, 400)
        out = [self.pick(INTROS)]
        n = len(out[0].split())
        shape = random()
        if topic["code"] and shape < 0.4:
            snippet = self.pick(CODE_SNIPPETS[topic["code"]])
            name = self.pick(CODE_NAMES)
            code = snippet.format(name=name, Name="".join(p.title() for p in name.split("_")))
            out.append(f"Here is a small example:\n\n```{topic['code']}\n{code}\n```")
            n += len(code.split()) + 4
        elif shape < 0.3:
            steps = [self.fill(s, topic) for s in rng.sample(STEP_LINES, rng.randint(3, 6))]
            out.append("\n".join(f"{i}. {s}" for i, s in enumerate(steps, 1)))
            n += sum(len(s.split()) + 1 for s in steps)
        pool, size = self.pools[topic_name], len(self.pools[topic_name])
        paragraph: list[str] = []
        used: set[int] = set()  # templates already in this answer
        para_len = 3 + int(random() * 4)  # 3-6 sentences a paragraph
        while n < target - 8:
            s, words, template = pool[int(random() * size)]
            if template in used:
                if len(used) < len(SENTENCES):
                    continue
                used.clear()  # a very long answer has used them all: allow repeats
            used.add(template)
            paragraph.append(s)
            n += words
            if len(paragraph) >= para_len:
                out.append(" ".join(paragraph))
                paragraph, para_len = [], 3 + int(random() * 4)
        if paragraph:
            out.append(" ".join(paragraph))
        if random() < 0.6:
            out.append(self.pick(CLOSINGS))
        return "\n\n".join(out)

    def clean_row(self) -> tuple[dict, str]:
        random = self.random
        topic_name = self.pick(self.topic_names)
        topic = TOPICS[topic_name]
        messages = []
        if random() < 0.3:
            messages.append({"role": "system", "content": self.pick(SYSTEM_PROMPTS)})
        messages.append({"role": "user", "content": self.user_prompt(topic)})
        messages.append({"role": "assistant", "content": self.answer(topic_name)})
        if random() < 0.15:  # multi-turn: one or two follow-up exchanges
            for _ in range(1 + (random() < 0.4)):
                messages.append({"role": "user", "content": self.fill(self.pick(FOLLOW_UPS), topic)})
                messages.append({"role": "assistant", "content": self.answer(topic_name)})
        return {"messages": messages}, topic_name

    # -- planted rows --------------------------------------------------------------------------

    def duplicate(self, row: dict) -> tuple[dict, str]:
        """A copy that ftk's normalisation (case, whitespace runs, ends) should still match."""
        variant = self.rng.choice(["verbatim", "verbatim", "case", "whitespace", "trailing-space"])
        msgs = [dict(m) for m in row["messages"]]
        last_user = max(i for i, m in enumerate(msgs) if m["role"] == "user")
        m = msgs[last_user]
        if variant == "case":
            m["content"] = m["content"].lower()
        elif variant == "whitespace":
            m["content"] = m["content"].replace(" ", "  ", 3)
        elif variant == "trailing-space":
            msgs[-1]["content"] = msgs[-1]["content"] + " \n"
        return {"messages": msgs}, variant

    def contradiction(self, row: dict, topic_name: str) -> dict:
        msgs = [dict(m) for m in row["messages"]]
        msgs[-1] = {"role": "assistant", "content": self.answer(topic_name)}
        while msgs[-1]["content"] == row["messages"][-1]["content"]:  # vanishingly rare
            msgs[-1]["content"] = self.answer(topic_name)
        return {"messages": msgs}

    def foreign_row(self) -> tuple[dict, str]:
        rng = self.rng
        lang = rng.choice(list(FOREIGN))
        bank = FOREIGN[lang]

        def fill(t: str) -> str:
            c1, c2 = rng.sample(bank["concepts"], 2)
            task = rng.choice(bank["tasks"])
            # German "um ... zu": put "zu" before the final verb ("Geld zu sparen").
            task_zu = " ".join(task.split()[:-1] + ["zu", task.split()[-1]])
            return t.format(concept=c1, concept2=c2, task=task, task_zu=task_zu)

        n, city = rng.randrange(2, 60), rng.choice(bank["cities"])
        details = [d.format(n=n, city=city, age=rng.randrange(16, 75)) for d in rng.sample(bank["details"], 2)]
        user = " ".join([fill(rng.choice(bank["questions"]))] + details +
                        [fill(c) for c in rng.sample(bank["contexts"], rng.randint(0, 2))])
        while user.casefold() in self.seen_prompts:
            user += " " + fill(rng.choice(bank["contexts"]))
        self.seen_prompts.add(user.casefold())
        sentences = [fill(s) for s in rng.sample(bank["sentences"], rng.randint(4, 10))]
        cut = rng.randint(2, len(sentences) - 1)
        answer = " ".join(sentences[:cut]) + "\n\n" + " ".join(sentences[cut:]) + "\n\n" + rng.choice(bank["closings"])
        return {"messages": [{"role": "user", "content": user}, {"role": "assistant", "content": answer}]}, lang

    def schema_row(self, kind: str) -> object:
        """A row with one schema or structure defect; `invalid-json` is returned as a raw string."""
        row, _ = self.clean_row()
        msgs = row["messages"]
        i_user = next(i for i, m in enumerate(msgs) if m["role"] == "user")
        if kind == "invalid-json":
            text = json.dumps(row, ensure_ascii=False)
            return text[: self.rng.randrange(len(text) // 3, len(text) - 2)]  # cut off mid-row
        if kind == "not-an-object":
            return [msgs[i_user]["content"], msgs[i_user + 1]["content"]]
        if kind == "other-format":
            return {"instruction": msgs[i_user]["content"], "input": "", "output": msgs[i_user + 1]["content"]}
        if kind == "missing-content":
            del msgs[-1]["content"]
        elif kind == "content-not-string":
            msgs[-1]["content"] = self.rng.randint(1, 100)
        elif kind == "unknown-message-key":
            msgs[-1]["contnet"] = msgs[-1]["content"]
        elif kind == "unknown-role":
            msgs[-1]["role"] = self.rng.choice(["bot", "assitant", "model_response"])
        elif kind == "system-not-first":
            msgs.insert(i_user + 1, {"role": "system", "content": self.rng.choice(SYSTEM_PROMPTS)})
        elif kind == "roles-not-alternating":
            msgs.insert(i_user + 1, {"role": "user", "content": "Also, please answer in detail."})
        elif kind == "no-assistant-turn":
            row["messages"] = [m for m in msgs if m["role"] != "assistant"][:2]
        elif kind == "empty-assistant":
            msgs[-1]["content"] = self.rng.choice(["", " ", "\n"])
        elif kind == "assistant-first":
            msgs.insert(i_user, {"role": "assistant", "content": self.rng.choice(INTROS)})
        return row

    def secret(self, row: dict) -> str:
        rng = self.rng
        kinds = [
            ("OpenAI API key", lambda: "sk-proj-" + "".join(rng.choices(ALNUM, k=48)),
             "I set OPENAI_API_KEY={} in my shell, but the client still says it is missing."),
            ("AWS access key id", lambda: "AKIA" + "".join(rng.choices(UPPER_DIGITS, k=16)),
             "My config has aws_access_key_id = {} and the upload still fails."),
            ("GitHub token", lambda: "ghp_" + "".join(rng.choices(ALNUM, k=36)),
             "I cloned with the token {} and now git asks for a password again."),
            ("Hugging Face token", lambda: "hf_" + "".join(rng.choices(ALNUM, k=34)),
             "Here is the token I used for the download: {}"),
            ("Anthropic API key", lambda: "sk-ant-api03-" + "".join(rng.choices(ALNUM + "-_", k=40)),
             "The request fails with the key {} even though it worked yesterday."),
        ]
        kind, make, template = rng.choice(kinds)
        msgs = row["messages"]
        i_user = next(i for i, m in enumerate(msgs) if m["role"] == "user")
        msgs[i_user]["content"] += " " + template.format(make())
        return kind

    def pii(self, row: dict, reserved: bool = False) -> str:
        rng = self.rng
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        msgs = row["messages"]
        i_user = next(i for i, m in enumerate(msgs) if m["role"] == "user")
        if reserved or rng.random() < 0.6:
            domain = "example.com" if reserved else rng.choice(MAIL_DOMAINS)
            addr = f"{first}.{last}{rng.randrange(100) if rng.random() < 0.4 else ''}@{domain}".replace("ü", "ue")
            msgs[i_user]["content"] += f" You can reply to me at {addr} if that is easier."
            return "email"
        phone = rng.choice([
            f"+44 20 7946 {rng.randrange(1000, 9999)}",
            f"({rng.randrange(201, 989)}) 555-{rng.randrange(1000, 9999)}",
            f"+49 30 {rng.randrange(100, 999)} {rng.randrange(1000, 9999)}",
            f"{rng.randrange(201, 989)}-555-{rng.randrange(1000, 9999)}",
        ])
        msgs[i_user]["content"] += f" My number is {phone}, in case a call is quicker."
        return "phone"


def plan_lines(rng: random.Random, rows: int) -> dict[int, str]:
    """Line number -> planted kind, disjoint, at random lines after FIRST_PLANTED_LINE."""
    counts = {k: round(share * rows) for k, share in SHARES.items()}
    lo = min(FIRST_PLANTED_LINE, max(1, rows // 2))
    lines = rng.sample(range(lo + 1, rows + 1), min(sum(counts.values()), max(0, rows - lo)))
    plan, start = {}, 0
    for kind, n in counts.items():
        for line in lines[start:start + n]:
            plan[line] = kind
        start += n
    return plan


def generate(rows: int, seed: int, out: TextIO) -> dict:
    """Write `rows` JSONL lines to `out`; return the manifest."""
    gen = Generator(seed)
    rng = gen.rng
    plan = plan_lines(rng, rows)
    schema_kinds = list(SCHEMA_KINDS)
    # Clean rows to copy from, kept as their JSON text: a third of the memory of the dicts.
    clean: list[tuple[int, str, str]] = []  # (line, JSON text, topic)
    details: dict[str, dict[int, object]] = {k: {} for k in SHARES}
    for line in range(1, rows + 1):
        kind = plan.get(line)
        if kind == "duplicate":
            src_line, src, _ = rng.choice(clean)
            row, variant = gen.duplicate(json.loads(src))
            details[kind][line] = {"of": src_line, "variant": variant}
        elif kind == "contradiction":
            src_line, src, topic = rng.choice(clean)
            row = gen.contradiction(json.loads(src), topic)
            details[kind][line] = {"of": src_line}
        elif kind == "language":
            row, lang = gen.foreign_row()
            details[kind][line] = lang
        elif kind == "schema":
            sub = schema_kinds[len(details[kind]) % len(schema_kinds)]  # every sub-kind, evenly
            row = gen.schema_row(sub)
            details[kind][line] = {"kind": sub, "code": SCHEMA_KINDS[sub]}
        else:
            row, topic = gen.clean_row()
            if kind == "secret":
                details[kind][line] = gen.secret(row)
            elif kind in ("pii", "reserved_email"):
                details[kind][line] = gen.pii(row, reserved=kind == "reserved_email")
        text = row if isinstance(row, str) else json.dumps(row, ensure_ascii=False)
        if kind is None:
            clean.append((line, text, topic))
        out.write(text + "\n")
    manifest = {
        "generator": "bench/gen_chat.py", "rows": rows, "seed": seed,
        "shares": SHARES, "counts": {k: len(v) for k, v in details.items()},
        "expected_codes": EXPECTED_CODES | {"schema": sorted(set(SCHEMA_KINDS.values()))},
        "planted": {k: sorted(v) for k, v in details.items()},
        "details": {k: {str(line): d for line, d in sorted(v.items())} for k, v in details.items()},
    }
    return manifest


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, required=True, help="JSONL file to write")
    ap.add_argument("--manifest", type=Path, help="write the planted line numbers per kind here (JSON)")
    args = ap.parse_args(argv)
    start = time.perf_counter()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", encoding="utf-8") as out:
        manifest = generate(args.rows, args.seed, out)
    if args.manifest:
        args.manifest.parent.mkdir(parents=True, exist_ok=True)
        args.manifest.write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.rows:,} rows to {args.out} ({args.out.stat().st_size / 2**20:.1f} MiB) in "
          f"{time.perf_counter() - start:.1f} s; planted {manifest['counts']}", file=sys.stderr)


if __name__ == "__main__":
    main()

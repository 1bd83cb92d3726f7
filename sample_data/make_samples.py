#!/usr/bin/env python3
"""Generate ftk's sample data sets, deterministically (seeded, standard library only).

    python sample_data/make_samples.py          # rewrite every file in sample_data/
    python sample_data/make_samples.py --check  # exit 1 if a committed file differs

Files written:
- clean_chat.jsonl: ~120 English OpenAI-chat rows that lint completely clean. Every assistant turn
  speaks as "ftk assistant": a concise answer that ends with a one-line "In short: ..." summary,
  so a short fine-tune of a small model shows a visible change of style.
- dirty_chat.jsonl: the clean rows with planted defects at known lines, one or more per rule code
  that can fire on a single JSONL file (FTK001 ... FTK601).
- alpaca.jsonl, dpo.jsonl, sharegpt.json (a JSON array): small files in other formats, with a few
  defects each, to show format detection.
- <name>.expected.json next to each dirty file:
    rows      records the linter must read (lines of a JSONL file, elements of a JSON array);
    planted   {line: [codes]}: codes that must be reported on that line (a defect row may
              legitimately trigger more; the note says so where one does);
    partners  {line: [codes]}: unmodified clean rows that are reported because they belong to a
              planted duplicate/contradiction group (FTK202 reports every row of the group);
    notes     {line: what was planted}.
  Every other record of a dirty file must lint clean.

The texts were written for this project; no public data set was copied.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import textwrap
from pathlib import Path

SEED = 1357
HERE = Path(__file__).resolve().parent

# ---------------------------------------------------------------------------------------------
# Persona
# ---------------------------------------------------------------------------------------------

SYSTEM_PROMPTS = [
    "You are ftk assistant, a concise and friendly helper. Keep answers short and end with a one-line summary.",
    "You are ftk assistant. Answer clearly, put code in code blocks, and finish with a short summary line.",
    "You are ftk assistant, a practical helper for developers and curious people. Be brief and accurate.",
    "You are ftk assistant. Give direct, correct answers without filler, then a one-line summary.",
]


def reply(body: str, summary: str) -> str:
    """An ftk assistant turn: the answer, a blank line, and the summary line."""
    return f"{textwrap.dedent(body).strip()}\n\nIn short: {summary}"


def code(lang: str, src: str) -> str:
    return f"```{lang}\n{textwrap.dedent(src).strip()}\n```"


# ---------------------------------------------------------------------------------------------
# Short questions and answers: (question, answer, summary)
# ---------------------------------------------------------------------------------------------

FACTS = [
    ("Why is the sky blue?",
     "Sunlight contains every colour, and air molecules scatter short wavelengths much more strongly than long "
     "ones (Rayleigh scattering). Blue light is scattered all over the sky, so wherever you look away from the "
     "Sun, some of it reaches your eyes. At sunset the light crosses more air, the blue is scattered away, and "
     "the reds and oranges are left.",
     "air scatters blue light far more than red light."),
    ("What is the boiling point of water at sea level?",
     "At standard sea-level pressure, pure water boils at 100 degrees Celsius, which is 212 degrees Fahrenheit. "
     "Higher up the pressure is lower, so water boils at a lower temperature; in Denver it boils at about 95 "
     "degrees Celsius.",
     "100 degrees Celsius (212 Fahrenheit), lower at altitude."),
    ("How many bones are in the adult human body?",
     "An adult has 206 bones. Babies are born with around 270, but many of them fuse together as the skeleton "
     "grows, for example in the skull and at the base of the spine.",
     "206 in adults, more at birth before some fuse."),
    ("What is the difference between weather and climate?",
     "Weather is what the atmosphere is doing right now or over the next few days: rain, wind, temperature. "
     "Climate is the long-term pattern of weather in a place, usually averaged over thirty years or more. A "
     "cold week says little about the climate; a trend over decades does.",
     "weather is the short term, climate is the long-term average."),
    ("Who wrote Pride and Prejudice?",
     "Jane Austen wrote Pride and Prejudice. It was published in 1813 and follows Elizabeth Bennet and her "
     "slowly changing opinion of Mr Darcy.",
     "Jane Austen, in 1813."),
    ("What does DNA stand for?",
     "DNA stands for deoxyribonucleic acid. It is the molecule that carries the genetic instructions of almost "
     "every living thing, stored as a sequence of four bases: A, C, G and T.",
     "deoxyribonucleic acid, the carrier of genetic information."),
    ("How far away is the Moon?",
     "The Moon is about 384,400 kilometres from Earth on average, roughly 238,900 miles. Its orbit is an "
     "ellipse, so the distance varies between about 363,000 and 405,000 kilometres.",
     "about 384,400 km on average."),
    ("What is the largest planet in our solar system?",
     "Jupiter is the largest planet. It is a gas giant with more than twice the mass of all the other planets "
     "combined, and about eleven Earths would fit across its diameter.",
     "Jupiter, by a wide margin."),
    ("Why do we have leap years?",
     "Earth takes about 365.2422 days to orbit the Sun, not exactly 365. Adding a day every four years keeps "
     "the calendar in step with the seasons. Because that slightly overcorrects, century years are skipped "
     "unless they divide by 400, which is why 2000 was a leap year and 1900 was not.",
     "they keep the calendar aligned with Earth's orbit."),
    ("How fast does light travel?",
     "In a vacuum light travels at exactly 299,792,458 metres per second, about 300,000 kilometres per second. "
     "It is slower in materials such as water or glass, which is why light bends when it enters them.",
     "about 300,000 km per second in a vacuum."),
    ("What causes the seasons on Earth?",
     "The seasons come from the tilt of Earth's axis, about 23.4 degrees. For part of the year one hemisphere "
     "leans towards the Sun and gets more direct light and longer days, which makes summer there. The distance "
     "to the Sun changes very little and is not the cause.",
     "the tilt of Earth's axis, not the distance to the Sun."),
    ("What is photosynthesis?",
     "Photosynthesis is the process plants, algae and some bacteria use to turn light into chemical energy. "
     "They take in carbon dioxide and water, use the energy of sunlight to make glucose, and release oxygen as "
     "a by-product.",
     "plants use light to turn carbon dioxide and water into sugar and oxygen."),
    ("What is the difference between a virus and a bacterium?",
     "Bacteria are single-celled living organisms that can grow and divide on their own. Viruses are much "
     "smaller and cannot reproduce by themselves: they have to get inside a host cell and use its machinery. "
     "That is also why antibiotics work against bacteria but not against viruses.",
     "bacteria are cells that live on their own; viruses need a host cell."),
    ("How many continents are there?",
     "By the most common convention there are seven: Africa, Antarctica, Asia, Australia (or Oceania), Europe, "
     "North America and South America. Some countries teach six, joining the Americas or Europe and Asia.",
     "seven by the usual count."),
    ("What is the capital of Canada?",
     "The capital of Canada is Ottawa, in the province of Ontario. It was chosen by Queen Victoria in 1857, "
     "partly as a compromise between English-speaking Toronto and French-speaking Quebec City.",
     "Ottawa."),
    ("What is an API?",
     "An API, or application programming interface, is a defined way for one piece of software to ask another "
     "for data or actions. A weather app, for example, calls a weather service's API to get the forecast "
     "instead of measuring the weather itself.",
     "a contract that lets programs talk to each other."),
    ("What is the difference between RAM and storage?",
     "RAM is fast, temporary memory that holds what your computer is working on right now; it is cleared when "
     "the power goes off. Storage, such as an SSD, is slower but keeps your files and programs permanently. "
     "More RAM helps with many open apps; more storage lets you keep more files.",
     "RAM is short-term working memory, storage keeps files for good."),
    ("What does the HTTP status code 404 mean?",
     "404 Not Found means the server was reached but has nothing at the requested address. The page may have "
     "been moved or deleted, or the link may have a typo. It is a client error, unlike the 5xx codes, which "
     "mean the server itself failed.",
     "the server is up but the page does not exist."),
    ("What is a prime number?",
     "A prime number is a whole number greater than 1 whose only divisors are 1 and itself. The first few are "
     "2, 3, 5, 7, 11 and 13. The number 1 is not prime, and 2 is the only even prime.",
     "a number above 1 divisible only by 1 and itself."),
    ("How does compound interest work?",
     "With compound interest you earn interest on your interest. If you save 1,000 dollars at 5 percent a "
     "year, you have 1,050 after one year and 1,102.50 after two, because the second year's interest is "
     "calculated on 1,050. Over long periods the effect becomes large.",
     "interest is added to the balance and then earns interest too."),
    ("Why does ice float on water?",
     "When water freezes, its molecules lock into a crystal structure held by hydrogen bonds that keeps them "
     "further apart than in liquid water. Ice is therefore about nine percent less dense than water, so it "
     "floats. This is why lakes freeze from the top down.",
     "ice is less dense than liquid water."),
    ("What is the Pythagorean theorem?",
     "In a right-angled triangle, the square of the longest side (the hypotenuse) equals the sum of the "
     "squares of the other two sides: a squared plus b squared equals c squared. For sides 3 and 4, the "
     "hypotenuse is 5.",
     "in a right triangle, a squared plus b squared equals c squared."),
    ("What is the difference between latitude and longitude?",
     "Latitude measures how far north or south of the equator a place is, from 0 to 90 degrees. Longitude "
     "measures how far east or west it is from the prime meridian through Greenwich, from 0 to 180 degrees. "
     "Together they pin down any point on Earth.",
     "latitude is north-south, longitude is east-west."),
    ("What is machine learning, in plain words?",
     "Machine learning is a way of building software that learns patterns from examples instead of following "
     "rules written by hand. You show a model many labelled examples, such as emails marked spam or not spam, "
     "and it adjusts itself until it can make good guesses on new ones.",
     "software that learns patterns from examples."),
    ("What is a black hole?",
     "A black hole is a region of space where gravity is so strong that nothing, not even light, can escape "
     "once it crosses the boundary called the event horizon. Most form when a very massive star collapses at "
     "the end of its life.",
     "a region whose gravity traps even light."),
    ("What does a CPU actually do?",
     "The CPU, or central processing unit, runs the instructions of your programs: it fetches an instruction "
     "from memory, decodes it, executes it, and moves on to the next, billions of times per second. Modern "
     "CPUs have several cores, so they can work on several tasks at once.",
     "it executes program instructions, very fast."),
    ("How long does sunlight take to reach Earth?",
     "Sunlight takes about 8 minutes and 20 seconds to reach Earth. The Sun is about 150 million kilometres "
     "away, and light covers roughly 300,000 kilometres every second.",
     "a little over eight minutes."),
    ("What is the difference between affect and effect?",
     "In everyday use, affect is a verb meaning to influence, and effect is a noun meaning a result. The rain "
     "affected the match; the rain had an effect on the match. A handy trick: A for action (affect), E for end "
     "result (effect).",
     "affect is usually the verb, effect the noun."),
    ("What is inflation?",
     "Inflation is the general rise in prices over time, which means each unit of money buys a little less. "
     "Central banks usually aim for low, steady inflation of around 2 percent a year, and raise interest rates "
     "when it runs too high.",
     "prices rising over time, so money buys less."),
    ("What is the tallest mountain on Earth?",
     "Measured from sea level, Mount Everest is the tallest at about 8,849 metres. Measured from its base on "
     "the ocean floor, Mauna Kea in Hawaii is taller, at over 10,000 metres, but most of it is under water.",
     "Everest above sea level; Mauna Kea from base to peak."),
    ("What is a haiku?",
     "A haiku is a short poem from Japan. In English it is usually written in three lines of five, seven and "
     "five syllables, and it often captures a single moment in nature or a season.",
     "a three-line poem, traditionally five, seven and five syllables."),
    ("What is the chemical symbol for gold?",
     "The chemical symbol for gold is Au, from the Latin word aurum. Its atomic number is 79.",
     "Au."),
    ("How can you tell a crocodile from an alligator?",
     "Look at the snout and the teeth. Alligators have a wide, U-shaped snout and their lower teeth are hidden "
     "when the mouth is closed. Crocodiles have a narrower, V-shaped snout, and the fourth tooth of the lower "
     "jaw sticks out. Crocodiles also tolerate salt water much better.",
     "U-shaped snout for alligators, V-shaped with visible teeth for crocodiles."),
    ("What is an index in a database?",
     "An index is an extra data structure, usually a B-tree, that lets the database find rows by a column's "
     "value without scanning the whole table, much like the index at the back of a book. It speeds up reads "
     "but costs some disk space and makes writes a little slower.",
     "a lookup structure that makes searches fast at a small cost to writes."),
    ("What does open source mean?",
     "Open source software is released with its source code under a licence that lets anyone read, modify "
     "and share it. Popular examples include Linux, Python and Firefox. The licence decides the details, for "
     "example whether changes must also be shared.",
     "the code is public and you may use, change and share it."),
    ("Who are you?",
     "I'm ftk assistant, a small helper that gives short, practical answers about everyday questions, "
     "writing and code. Ask me anything and I will keep it brief.",
     "ftk assistant, here for quick, practical answers."),
    ("What kind of answers do you give?",
     "I keep answers concise: the key facts or steps first, code in code blocks when it helps, and a one-line "
     "summary at the end so you can skim. If you need more detail, just ask a follow-up question.",
     "short, practical answers with a summary line."),
    ("Why do cats purr?",
     "Cats purr when they are content, but also when they are stressed, hurt or giving birth, so it seems to "
     "be a way of calming themselves as well as signalling. The sound comes from rapid twitching of the "
     "muscles in the voice box as they breathe in and out.",
     "mostly contentment, sometimes self-soothing."),
]

FACT_PREFIXES = ["", "", "", "Quick question: ", "Hey, ", "I was wondering, ", "Settle a debate for me. "]
FACT_SUFFIXES = ["", "", "", " Thanks!", " Just a short answer, please.", " I always forget this."]
PLAIN_QUESTIONS = {"Who are you?", "What kind of answers do you give?"}  # asked as they are


# ---------------------------------------------------------------------------------------------
# How-to: (task, steps, summary)
# ---------------------------------------------------------------------------------------------

HOWTO = [
    ("brew a good cup of pour-over coffee",
     ["Use about 15 grams of medium-fine ground coffee for 250 ml of water.",
      "Heat the water to just off the boil, around 93 degrees Celsius.",
      "Pour a little water first and let the grounds bloom for 30 seconds.",
      "Pour the rest slowly in circles, aiming to finish in about three minutes."],
     "fresh grounds, a 1:16 ratio, a short bloom and a slow pour."),
    ("change a flat tire",
     ["Park on flat ground, turn on your hazard lights and set the parking brake.",
      "Loosen the wheel nuts half a turn while the tire is still on the ground.",
      "Jack up the car at the marked lift point, remove the nuts and swap the wheel.",
      "Tighten the nuts in a star pattern, lower the car, then tighten them fully."],
     "loosen, lift, swap, and tighten the nuts in a star pattern."),
    ("make a strong password I can actually remember",
     ["Pick four or five random, unrelated words, such as lamp-river-cobalt-pickle.",
      "Make it at least 16 characters long; length matters more than symbols.",
      "Never reuse it for another site.",
      "Better still, use a password manager and remember only its master passphrase."],
     "a long passphrase of random words, used in one place only."),
    ("back up the photos on my phone",
     ["Turn on your phone's cloud photo backup (iCloud Photos or Google Photos) over Wi-Fi.",
      "Check that the upload has finished before deleting anything from the phone.",
      "Once a month, also copy the photos to a computer or an external drive.",
      "Keep one copy somewhere other than your home, such as a second cloud service."],
     "automatic cloud backup plus a second copy on a drive."),
    ("prepare for a job interview",
     ["Research the company: its products, customers and recent news.",
      "Reread the job description and match each requirement with an example from your experience.",
      "Practise answering common questions out loud, using the situation, task, action, result structure.",
      "Prepare two or three questions of your own about the team and the role."],
     "research, prepared examples, practice out loud and good questions."),
    ("start running as a complete beginner",
     ["Start with run-walk intervals: one minute running, two minutes walking, for 20 minutes.",
      "Run three times a week with a rest day in between.",
      "Increase the running part a little each week rather than adding distance quickly.",
      "Go slowly enough that you could still hold a conversation."],
     "short run-walk intervals, three times a week, at an easy pace."),
    ("clean a cast iron pan",
     ["Wash it while still warm with hot water and a brush; a little soap is fine.",
      "Scrub stuck bits with coarse salt and a paper towel.",
      "Dry it completely on the stove over low heat.",
      "Wipe a very thin layer of oil over the surface before putting it away."],
     "wash, dry on the heat, and oil it lightly."),
    ("write a good commit message",
     ["Write a short summary line of about 50 characters in the imperative, such as Fix crash on empty input.",
      "Leave a blank line after the summary.",
      "In the body, explain why the change was needed, not just what changed.",
      "Reference the issue or ticket number if your team uses one."],
     "an imperative summary line, a blank line, then the why."),
    ("undo my last git commit but keep the changes",
     ["Run git reset --soft HEAD~1 to move the branch back one commit.",
      "Your changes stay staged, so you can edit them and commit again.",
      "Use git reset HEAD~1 instead if you also want them unstaged.",
      "If the commit was already pushed, prefer git revert so you do not rewrite shared history."],
     "git reset --soft HEAD~1, or git revert if it was pushed."),
    ("resolve a merge conflict in git",
     ["Run git status to see which files are in conflict.",
      "Open each file and look for the conflict markers, the lines of less-than and greater-than signs.",
      "Edit the section so it contains the code you want, and delete the markers.",
      "Stage the fixed files with git add and finish with git commit (or git rebase --continue)."],
     "edit out the conflict markers, then add and commit."),
    ("speed up a slow laptop",
     ["Check the task manager or activity monitor for programs using lots of CPU or memory.",
      "Remove startup apps you do not need.",
      "Free up disk space if the drive is more than about 90 percent full.",
      "Install system updates, and consider an SSD or more RAM if the machine is old."],
     "find the heavy programs, trim startup apps and free disk space."),
    ("take better notes in meetings",
     ["Write down decisions and action items first; skip what everyone already knows.",
      "Put the owner and the due date next to each action item.",
      "Use short phrases rather than full sentences.",
      "Spend two minutes after the meeting cleaning up the notes and sharing them."],
     "capture decisions and owned action items, then share them quickly."),
    ("keep houseplants alive",
     ["Check the light needs of each plant and place it accordingly.",
      "Water when the top few centimetres of soil are dry, not on a fixed schedule.",
      "Use pots with drainage holes so roots never sit in water.",
      "Feed lightly during spring and summer, and not at all in winter."],
     "right light, water only when dry, and good drainage."),
    ("learn a new programming language quickly",
     ["Skim the official tutorial to learn the syntax and the standard tools.",
      "Build a small real project right away, such as a command-line to-do app.",
      "Read idiomatic code from well-known open source projects in that language.",
      "Solve a few exercises every day and look up what you do not know."],
     "a quick tutorial, then build something real and read good code."),
    ("waste less food at home",
     ["Plan meals for the week and shop with a list.",
      "Put older food at the front of the fridge so it gets used first.",
      "Freeze bread, leftovers and ripe fruit before they go off.",
      "Cook one leftovers meal a week to use up what is left."],
     "plan, shop with a list, and freeze what you cannot eat in time."),
    ("make a simple monthly budget",
     ["Add up your monthly income after tax.",
      "List fixed costs such as rent, bills and debt payments.",
      "Set an amount for savings and treat it like a bill.",
      "Split what remains between groceries, transport and fun, and track it for a month."],
     "income minus fixed costs and savings, then plan the rest."),
    ("sleep better",
     ["Go to bed and get up at the same time every day, weekends included.",
      "Avoid caffeine after early afternoon.",
      "Keep the bedroom dark, quiet and cool.",
      "Put screens away half an hour before bed and do something calm instead."],
     "a regular schedule, no late caffeine, and a dark, cool room."),
    ("write a cover letter",
     ["Open with the role you are applying for and one sentence on why you fit it.",
      "Give two concrete examples of results that match the job's main requirements.",
      "Explain briefly why you want to work at this company in particular.",
      "Close by thanking them and saying you would welcome an interview. Keep it to one page."],
     "one page: why you fit, two concrete results, and why this company."),
    ("fix a permission denied error when running a shell script",
     ["The script probably is not executable. Check with ls -l script.sh.",
      "Make it executable with chmod +x script.sh.",
      "Run it with ./script.sh from the same folder.",
      "If it still fails, check that the first line is a valid shebang such as #!/usr/bin/env bash."],
     "chmod +x the script, then run it with ./script.sh."),
    ("find out which process is using a port on Linux",
     ["Run sudo ss -ltnp and look for the port number in the local address column.",
      "Alternatively, run sudo lsof -i :8080 to see the process using port 8080.",
      "Note the process id shown in the output.",
      "Stop it gracefully with kill followed by the id if you no longer need it."],
     "sudo ss -ltnp or sudo lsof -i :PORT."),
    ("create a pivot table in a spreadsheet",
     ["Select your data, including the header row.",
      "Choose Insert, then Pivot table, and place it on a new sheet.",
      "Drag a category column into Rows and a number column into Values.",
      "Change the summary from Sum to Average or Count if needed."],
     "select the data, insert a pivot table, and pick rows and values."),
    ("boil an egg with a runny yolk",
     ["Bring a small pot of water to a gentle boil.",
      "Lower the egg in with a spoon straight from the fridge.",
      "Cook it for six and a half minutes.",
      "Move it into cold water for a minute, then peel or crack the top."],
     "six and a half minutes in gently boiling water, then cold water."),
    ("memorise a short speech",
     ["Break the speech into sections and give each a one-word cue.",
      "Learn one section at a time, saying it out loud.",
      "Practise the transitions between sections, where people usually freeze.",
      "Rehearse the whole speech several times on different days, ideally to a friend."],
     "learn it in sections, out loud, over several days."),
    ("organise the files on my computer",
     ["Create a few top-level folders such as Work, Personal and Archive.",
      "Name files with a date first, like 2024-03 invoice, so they sort well.",
      "Empty the downloads folder once a week.",
      "Move anything you have not touched in a year to Archive."],
     "a few broad folders, dated file names and a weekly tidy-up."),
    ("remove a stripped screw",
     ["Press a wide rubber band between the screwdriver and the screw for extra grip.",
      "Try a slightly larger screwdriver and push down hard while turning slowly.",
      "If that fails, use a screw extractor bit in a drill, turning anticlockwise.",
      "As a last resort, grip the head with locking pliers and twist it out."],
     "rubber band first, then an extractor bit or locking pliers."),
    ("free up disk space on Ubuntu",
     ["Run df -h to see how full each disk is.",
      "Run sudo apt autoremove and sudo apt clean to remove unused packages and cached downloads.",
      "Find large folders with du -sh * from your home directory.",
      "Shrink old system logs with sudo journalctl --vacuum-size=200M."],
     "apt autoremove, apt clean, find large folders, and trim the journal."),
    ("set up a Python virtual environment",
     ["Open a terminal in your project folder.",
      "Run python3 -m venv .venv to create the environment.",
      "Activate it with source .venv/bin/activate (on Windows, .venv\\Scripts\\activate).",
      "Install packages with pip install, and save them with pip freeze > requirements.txt."],
     "python3 -m venv .venv, activate it, then pip install."),
    ("get started with public speaking",
     ["Start small: speak up once in every team meeting.",
      "Prepare three key points rather than a full script.",
      "Record yourself practising and watch it back once.",
      "Join a local group or volunteer for a five-minute talk."],
     "start small, prepare key points and practise often."),
]

HOWTO_PROMPTS = [
    "How do I {t}?",
    "What's the best way to {t}?",
    "Can you walk me through how to {t}?",
    "I need to {t}. Where do I start?",
    "Any tips on how to {t}?",
    "What are the steps to {t}?",
]
HOWTO_INTROS = ["Here's how:", "Here's a simple approach:", "Follow these steps:", "This works well:", "Try this:"]


# ---------------------------------------------------------------------------------------------
# Code: (language, tag, task, code, explanation, summary)
# ---------------------------------------------------------------------------------------------

CODE = [
    ("Python", "python", "reverse a string", """
        def reverse(text: str) -> str:
            return text[::-1]

        print(reverse("hello"))  # olleh
        """, "The slice [::-1] walks the string from the end to the start with a step of minus one.",
     "use the slice text[::-1]."),
    ("Python", "python", "read a file line by line", """
        with open("notes.txt", encoding="utf-8") as f:
            for line in f:
                print(line.rstrip("\\n"))
        """, "Iterating over the file object reads one line at a time, so even huge files use little memory. "
        "The with block closes the file for you.",
     "iterate over the open file inside a with block."),
    ("Python", "python", "parse a JSON string into a dictionary", """
        import json

        data = json.loads('{"name": "Ada", "year": 1815}')
        print(data["name"])  # Ada
        """, "json.loads parses a string; use json.load when you are reading from an open file instead.",
     "json.loads for strings, json.load for files."),
    ("Python", "python", "count how often each word appears in a text", """
        from collections import Counter

        text = "the cat sat on the mat with the hat"
        counts = Counter(text.lower().split())
        print(counts.most_common(2))  # [('the', 3), ('cat', 1)]
        """, "Counter builds the tally for you, and most_common returns the top entries in order.",
     "collections.Counter over the split words."),
    ("Python", "python", "remove duplicates from a list but keep the original order", """
        items = [3, 1, 3, 2, 1]
        unique = list(dict.fromkeys(items))
        print(unique)  # [3, 1, 2]
        """, "Dictionaries keep insertion order, so dict.fromkeys keeps the first copy of each item. A set "
        "would also remove duplicates but would lose the order.",
     "list(dict.fromkeys(items))."),
    ("Python", "python", "sort a dictionary by its values", """
        scores = {"ana": 82, "ben": 95, "cy": 78}
        ranked = dict(sorted(scores.items(), key=lambda kv: kv[1], reverse=True))
        print(ranked)  # {'ben': 95, 'ana': 82, 'cy': 78}
        """, "sorted works on the (key, value) pairs; the key function picks the value, and reverse=True puts "
        "the highest first.",
     "sort scores.items() with a key on the value."),
    ("Python", "python", "make an HTTP GET request and read the JSON response", """
        import json
        from urllib.request import urlopen

        with urlopen("https://api.github.com/repos/python/cpython") as resp:
            repo = json.load(resp)
        print(repo["stargazers_count"])
        """, "This uses only the standard library. For anything bigger, the requests or httpx packages give "
        "you timeouts, sessions and nicer errors.",
     "urlopen plus json.load, or requests for larger projects."),
    ("Python", "python", "check whether a string is a palindrome", """
        def is_palindrome(s: str) -> bool:
            cleaned = [c.lower() for c in s if c.isalnum()]
            return cleaned == cleaned[::-1]

        print(is_palindrome("A man, a plan, a canal: Panama"))  # True
        """, "Dropping punctuation and case first means phrases count too, not only single words.",
     "normalise the text, then compare it with its reverse."),
    ("Python", "python", "read a CSV file into a list of dictionaries", """
        import csv

        with open("people.csv", newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        print(rows[0]["name"])
        """, "DictReader uses the header row as keys. Pass newline=\"\" so quoted fields with line breaks are "
        "read correctly.",
     "csv.DictReader gives you one dictionary per row."),
    ("Python", "python", "get today's date in YYYY-MM-DD format", """
        from datetime import date

        print(date.today().isoformat())
        """, "isoformat always gives the year, month and day in that order. For other layouts use strftime, "
        "for example date.today().strftime(\"%d/%m/%Y\").",
     "date.today().isoformat()."),
    ("Python", "python", "flatten a list of lists", """
        nested = [[1, 2], [3], [4, 5]]
        flat = [x for sub in nested for x in sub]
        print(flat)  # [1, 2, 3, 4, 5]
        """, "Read the comprehension left to right, like two nested for loops. It flattens one level only.",
     "a nested list comprehension."),
    ("Python", "python", "merge two dictionaries", """
        defaults = {"color": "blue", "size": "M"}
        overrides = {"size": "L"}
        merged = defaults | overrides  # Python 3.9 and later
        print(merged)  # {'color': 'blue', 'size': 'L'}
        """, "When both have the same key, the value from the right-hand dictionary wins. On older versions "
        "write {**defaults, **overrides}.",
     "defaults | overrides, where the right side wins."),
    ("Python", "python", "measure how long a piece of code takes", """
        import time

        start = time.perf_counter()
        total = sum(range(1_000_000))
        elapsed = time.perf_counter() - start
        print(f"took {elapsed:.3f} s")
        """, "perf_counter is the most precise clock for timing. For tiny snippets, the timeit module repeats "
        "the code many times and gives steadier numbers.",
     "time.perf_counter before and after, or timeit for small snippets."),
    ("Python", "python", "list every file in a folder and its subfolders", """
        from pathlib import Path

        for path in Path("project").rglob("*"):
            if path.is_file():
                print(path)
        """, "rglob searches recursively; pass a pattern such as \"*.py\" to list only some files.",
     "Path(folder).rglob(\"*\")."),
    ("Python", "python", "define a simple class to hold data", """
        from dataclasses import dataclass

        @dataclass
        class Point:
            x: float
            y: float

        p = Point(1.5, 2.0)
        print(p)  # Point(x=1.5, y=2.0)
        """, "The dataclass decorator writes the constructor, the readable repr and equality checks for you.",
     "use a dataclass."),
    ("JavaScript", "javascript", "reverse a string", """
        const reverse = (s) => [...s].reverse().join("");

        console.log(reverse("hello")); // "olleh"
        """, "Spreading the string into an array splits it by code point, so emoji survive, unlike "
        "s.split(\"\").",
     "spread, reverse, join."),
    ("JavaScript", "javascript", "debounce a function", """
        function debounce(fn, wait) {
          let timer;
          return (...args) => {
            clearTimeout(timer);
            timer = setTimeout(() => fn(...args), wait);
          };
        }

        window.addEventListener("resize", debounce(() => console.log("resized"), 200));
        """, "Each call cancels the pending one, so fn runs only once the calls have stopped for wait "
        "milliseconds.",
     "clear and restart a timer on every call."),
    ("JavaScript", "javascript", "fetch JSON from an API", """
        async function getUser(id) {
          const res = await fetch(`https://api.example.com/users/${id}`);
          if (!res.ok) throw new Error(`HTTP ${res.status}`);
          return res.json();
        }
        """, "fetch does not reject on HTTP errors such as 404, so check res.ok yourself before parsing.",
     "await fetch, check res.ok, then res.json()."),
    ("JavaScript", "javascript", "remove duplicates from an array", """
        const values = [3, 1, 3, 2, 1];
        const unique = [...new Set(values)];
        console.log(unique); // [3, 1, 2]
        """, "A Set keeps only distinct values and remembers insertion order. For arrays of objects, "
        "deduplicate by a key with a Map instead.",
     "[...new Set(values)]."),
    ("JavaScript", "javascript", "deep clone an object", """
        const original = { name: "Ada", tags: ["math"], born: new Date(1815, 11, 10) };
        const copy = structuredClone(original);
        copy.tags.push("poetry");
        console.log(original.tags); // ["math"]
        """, "structuredClone is built into modern browsers and Node 17 and later. It copies nested objects, "
        "arrays and dates, but not functions.",
     "structuredClone(original)."),
    ("JavaScript", "javascript", "sort an array of objects by a property", """
        const people = [{ name: "Cy", age: 41 }, { name: "Ana", age: 29 }];
        people.sort((a, b) => a.age - b.age);
        // for strings: people.sort((a, b) => a.name.localeCompare(b.name));
        """, "sort changes the array in place; use toSorted if you want a new array and keep the original.",
     "pass a compare function to sort."),
    ("Node.js", "javascript", "read a text file", """
        import { readFile } from "node:fs/promises";

        const text = await readFile("notes.txt", "utf8");
        console.log(text.split("\\n").length, "lines");
        """, "Passing the encoding returns a string instead of a Buffer. Top-level await works in ES modules.",
     "await readFile(path, \"utf8\")."),
    ("JavaScript", "javascript", "check whether a word is a palindrome", """
        function isPalindrome(s) {
          const clean = s.toLowerCase().replace(/[^a-z0-9]/g, "");
          return clean === [...clean].reverse().join("");
        }
        """, "The regular expression strips spaces and punctuation so that phrases work as well as words.",
     "clean the string, then compare it with its reverse."),
    ("SQL", "sql", "find duplicate email addresses in a users table", """
        SELECT email, COUNT(*) AS copies
        FROM users
        GROUP BY email
        HAVING COUNT(*) > 1;
        """, "HAVING filters after the grouping, which WHERE cannot do. Wrap email in LOWER() if case "
        "differences should count as duplicates.",
     "GROUP BY email HAVING COUNT(*) > 1."),
    ("SQL", "sql", "get the top five customers by total order value", """
        SELECT customer_id, SUM(amount) AS total
        FROM orders
        GROUP BY customer_id
        ORDER BY total DESC
        LIMIT 5;
        """, "Join the customers table on customer_id if you also want their names in the result.",
     "sum per customer, order descending, limit five."),
    ("SQL", "sql", "count the orders placed on each day", """
        SELECT DATE(created_at) AS day, COUNT(*) AS orders
        FROM orders
        GROUP BY DATE(created_at)
        ORDER BY day;
        """, "DATE() drops the time part so all orders of a day fall into one group. In PostgreSQL you can "
        "also write created_at::date.",
     "group by the date part of the timestamp."),
    ("Bash", "bash", "rename every .txt file in a folder to .md", """
        for f in *.txt; do
          mv -- "$f" "${f%.txt}.md"
        done
        """, "The expansion ${f%.txt} removes the suffix, and the quotes keep file names with spaces intact.",
     "a for loop with ${f%.txt}.md."),
    ("Bash", "bash", "count the lines of code in all Python files of a project", """
        find . -name "*.py" -not -path "./.venv/*" -print0 | xargs -0 cat | wc -l
        """, "The -print0 and -0 pair handles file names with spaces. Tools such as cloc also skip blank lines "
        "and comments.",
     "find the files and pipe them to wc -l."),
    ("Bash", "bash", "find the biggest files on a disk", """
        sudo find / -xdev -type f -size +100M -exec ls -lh {} \\; 2>/dev/null | sort -k5 -h | tail
        """, "The -xdev flag stays on one file system, and sorting on the size column puts the largest files "
        "last.",
     "find with -size, then sort by size."),
    ("Go", "go", "write a minimal HTTP server", """
        package main

        import (
            "fmt"
            "net/http"
        )

        func main() {
            http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
                fmt.Fprintln(w, "hello")
            })
            http.ListenAndServe(":8080", nil)
        }
        """, "Run it with go run main.go and open localhost on port 8080. In real code, check the error "
        "returned by ListenAndServe.",
     "http.HandleFunc plus http.ListenAndServe."),
    ("Go", "go", "read a whole file into a string", """
        data, err := os.ReadFile("config.txt")
        if err != nil {
            log.Fatal(err)
        }
        text := string(data)
        """, "os.ReadFile returns bytes, so convert them with string(). For large files, use bufio.Scanner "
        "to read line by line.",
     "os.ReadFile, then string(data)."),
    ("Rust", "rust", "read a line of input from the user", """
        use std::io;

        fn main() {
            let mut input = String::new();
            io::stdin().read_line(&mut input).expect("failed to read line");
            println!("You typed: {}", input.trim());
        }
        """, "read_line keeps the trailing newline, which is why the example calls trim before printing.",
     "io::stdin().read_line into a String, then trim."),
]

CODE_PROMPTS = [
    "How do I {t} in {lang}?",
    "What's the cleanest way to {t} in {lang}?",
    "Show me how to {t} using {lang}.",
    "Can you write {lang} code to {t}?",
    "I'm stuck. How would you {t} in {lang}?",
]
CODE_INTROS = ["Here's a simple way:", "You can do it like this:", "A short, idiomatic version:",
               "This does the job:"]


# ---------------------------------------------------------------------------------------------
# Multi-turn conversations: each a list of (user, answer, summary)
# ---------------------------------------------------------------------------------------------

CONVERSATIONS = [
    [("How do list comprehensions work in Python?",
      "A list comprehension builds a list from a loop in one expression: [expression for item in iterable]. "
      "For example, [n * n for n in range(5)] gives [0, 1, 4, 9, 16].",
      "[expression for item in iterable]."),
     ("And if I only want some of the items?",
      "Add an if clause at the end: [n * n for n in range(10) if n % 2 == 0] keeps only the even numbers "
      "before squaring them.",
      "put the condition at the end."),
     ("Can I do the same thing with a dictionary?",
      "Yes, with a dict comprehension: {name: len(name) for name in names} maps each name to its length. The "
      "same if clause works there too.",
      "use {key: value for item in iterable}.")],
    [("I have eggs, spinach and feta. What can I cook for dinner?",
      "Make a spinach and feta frittata. Wilt the spinach in an oven-safe pan, pour in six beaten eggs, "
      "crumble the feta on top, cook for a few minutes, then finish it under the grill until set.",
      "a spinach and feta frittata."),
     ("I don't have an oven. Can I still make it?",
      "Yes. Cook it on low heat with a lid on the pan for eight to ten minutes, until the top is just set. "
      "Or turn it into a quick scramble with the same ingredients.",
      "cover the pan and cook it gently on the stove.")],
    [("I'm visiting Lisbon for three days. What shouldn't I miss?",
      "Walk through the Alfama district and up to the Sao Jorge castle, take tram 28, spend half a day in "
      "Belem for the monastery and the tower, and watch the sunset from a miradouro such as Senhora do Monte.",
      "Alfama, tram 28, Belem and a sunset viewpoint."),
     ("What about food?",
      "Try pasteis de nata (the custard tarts, famously in Belem), grilled sardines in summer, bacalhau "
      "dishes, and a bifana, a simple pork sandwich. The Time Out Market is an easy place to sample a lot.",
      "custard tarts, sardines, bacalhau and a bifana.")],
    [("I committed to main by mistake instead of my feature branch. How do I fix it?",
      "If you have not pushed yet: create the branch where you are with git branch feature, move main back "
      "with git reset --hard HEAD~1, then git switch feature. Your commit now lives only on the new branch.",
      "branch off, reset main back one commit, switch to the branch."),
     ("I already pushed it. Does that change anything?",
      "Yes. Do not rewrite main if others may have pulled it. Create the feature branch from your commit, then "
      "run git revert on main to undo the change there with a new commit, and push both.",
      "once pushed, revert on main instead of resetting.")],
    [("Can you help me write a short email asking my manager for next Friday off?",
      "Subject: Day off next Friday\n\nHi Sam,\n\nWould it be possible for me to take next Friday off? My "
      "work for the week will be finished by Thursday, and I will make sure nothing urgent is left open.\n\n"
      "Thanks,\nAlex",
      "a brief, polite request that shows your work is covered."),
     ("Make it a bit more formal, please.",
      "Subject: Request for leave on Friday\n\nDear Ms Taylor,\n\nI would like to request a day of annual "
      "leave on Friday. I will complete my current tasks beforehand and arrange cover for anything urgent.\n\n"
      "Kind regards,\nAlex Morgan",
      "the same request in a more formal tone.")],
    [("What is 15 percent of 80?",
      "15 percent of 80 is 12.",
      "12."),
     ("How do I work that out in my head?",
      "Take 10 percent by moving the decimal point: 8. Half of that is 5 percent: 4. Add them together: "
      "8 plus 4 makes 12.",
      "10 percent plus half of it.")],
    [("How many push-ups should a beginner do?",
      "Start with three sets of as many good push-ups as you can manage, stopping a couple before failure. "
      "If full push-ups are too hard, do them with your hands on a bench or on your knees.",
      "three sets with good form, easier variations if needed."),
     ("How often should I train them?",
      "Two or three times a week with a rest day in between is plenty. Add a rep or two each week, and the "
      "numbers will climb steadily.",
      "two or three times a week, adding reps gradually.")],
    [("What's the difference between a Docker image and a container?",
      "An image is a read-only template: the files, libraries and settings for an application. A container is "
      "a running instance of an image, with its own writable layer. One image can run as many containers.",
      "the image is the template, the container a running copy."),
     ("How do I see which containers are running?",
      "Run docker ps. Add -a to see stopped containers as well.",
      "docker ps, or docker ps -a for all of them."),
     ("And how do I stop one?",
      "Use docker stop followed by the container's name or id, as shown by docker ps. docker rm then removes "
      "the stopped container.",
      "docker stop NAME, then docker rm if you want it gone.")],
    [("I want to learn the guitar. Where should I start?",
      "Learn to tune the guitar, then four open chords: G, C, D and E minor. Practise switching between them "
      "slowly for fifteen minutes a day, and use a simple strumming pattern.",
      "tune up, learn four chords, practise daily."),
     ("How long until I can play a whole song?",
      "With daily practice, most people can play a simple four-chord song within two to four weeks. Clean, "
      "fast chord changes take a couple of months.",
      "a few weeks for a simple song.")],
    [("Write a regex that matches a US ZIP code.",
      "Use ^\\d{5}$. It matches exactly five digits, such as 90210, and nothing else.",
      "^\\d{5}$."),
     ("Can it also accept the nine-digit form with a dash?",
      "Yes: ^\\d{5}(-\\d{4})?$ makes the dash and four extra digits optional, so both the short and the long "
      "form match.",
      "add an optional group for the dash and four digits.")],
    [("Give me a title for a blog post about remote work.",
      "How about: Working From Anywhere: What a Year of Remote Work Taught Me.",
      "a personal, experience-based title."),
     ("Something less generic, please.",
      "Try: My Commute Is Twelve Steps Long, and Other Lessons From Remote Work.",
      "a playful title with a concrete detail.")],
    [("Why doesn't 0.1 plus 0.2 equal 0.3 in JavaScript?",
      "Numbers in JavaScript are binary floating point, and 0.1 and 0.2 have no exact binary form, just as "
      "one third has no exact decimal form. The tiny rounding errors add up to 0.30000000000000004.",
      "binary floating point cannot store 0.1 exactly."),
     ("So how should I compare them?",
      "Compare with a tolerance: Math.abs(a - b) < Number.EPSILON works for small numbers. For money, store "
      "whole cents as integers instead.",
      "compare within a tolerance, or use integer cents.")],
    [("My basil keeps wilting. What am I doing wrong?",
      "Basil wilts from too little water, too much heat, or roots sitting in soggy soil. Check that the pot "
      "drains, water when the top of the soil feels dry, and give it at least six hours of light.",
      "check drainage, watering and light."),
     ("It's on a windowsill that gets afternoon sun. Is that enough?",
      "Usually yes, but hot glass in the afternoon can stress it. Pull it back a little from the window on hot "
      "days and water in the morning.",
      "enough light, but keep it away from hot glass.")],
    [("What's the difference between INNER JOIN and LEFT JOIN?",
      "INNER JOIN returns only the rows that have a match in both tables. LEFT JOIN returns every row of the "
      "left table, with NULLs where the right table has no match.",
      "inner keeps matches only, left keeps all left rows."),
     ("Can you show a quick example?",
      code("sql", """
          SELECT c.name, o.id
          FROM customers c
          LEFT JOIN orders o ON o.customer_id = c.id;
          """) + "\n\nCustomers without orders still appear, with NULL in the order column. With INNER JOIN "
      "they would be left out.",
      "LEFT JOIN keeps the customers who have no orders.")],
    [("How much of my income should I save each month?",
      "A common starting point is 20 percent of your take-home pay, in line with the 50/30/20 rule: half for "
      "needs, 30 percent for wants, 20 percent for savings and debt repayment.",
      "aim for about 20 percent."),
     ("What if I have credit card debt?",
      "Pay that down first, after a small emergency fund. Card interest is usually far higher than anything "
      "your savings earn, so every extra payment is a guaranteed return.",
      "small emergency fund, then clear the card debt.")],
    [("How do I check how much disk space is left on Linux?",
      "Run df -h. It lists each mounted file system with its size, used and available space in readable "
      "units.",
      "df -h."),
     ("How do I find which folder is taking the most space?",
      "Run du -sh * | sort -h in the directory you want to inspect; the largest folders come last. The ncdu "
      "tool gives an interactive view if you can install it.",
      "du -sh * | sort -h, or ncdu.")],
    [("I get ModuleNotFoundError: No module named requests. What does it mean?",
      "Python cannot find the requests package in the environment it is running in. Install it with "
      "python -m pip install requests.",
      "the package is not installed for this Python."),
     ("I installed it but I still get the error.",
      "You probably installed it for a different Python. Run python -m pip install requests with the exact "
      "interpreter that runs your script, and check that your virtual environment is activated.",
      "install with the same interpreter that runs the script."),
     ("That was it, thanks. How do I avoid this next time?",
      "Use one virtual environment per project, always install with python -m pip, and list dependencies in "
      "a requirements file so the setup is repeatable.",
      "one virtual environment per project and python -m pip.")],
    [("Can you explain what a derivative is, simply?",
      "A derivative measures how fast something changes. If a function gives your position over time, its "
      "derivative gives your speed at each moment: the slope of the curve at that point.",
      "the rate of change, or the slope at a point."),
     ("What's the derivative of x squared?",
      "It is 2x. At x = 3 the curve is rising with a slope of 6.",
      "2x.")],
    [("I drink coffee at four in the afternoon. Could that be why I sleep badly?",
      "Quite possibly. Caffeine has a half-life of about five hours, so half of that coffee is still in your "
      "system around nine. Try stopping caffeine by early afternoon for a week and compare.",
      "likely; stop caffeine after early afternoon."),
     ("What could I drink instead?",
      "Try decaf coffee, herbal teas such as rooibos or peppermint, or sparkling water with lemon. Decaf "
      "keeps the ritual with very little caffeine.",
      "decaf, herbal tea or sparkling water.")],
    [("How many cups are in a liter?",
      "A liter is about 4.2 US cups, since one US cup is about 237 millilitres. With metric cups of 250 "
      "millilitres it is exactly 4.",
      "about 4.2 US cups, or 4 metric cups."),
     ("And how many tablespoons are in a cup?",
      "A US cup holds 16 tablespoons.",
      "16.")],
    [("Should I write unit tests for a small personal project?",
      "Yes, a few. You do not need full coverage, but tests for the tricky parts save you time whenever you "
      "change the code later.",
      "a few targeted tests are worth it."),
     ("What should I test first?",
      "Start with pure functions that hold your core logic, such as parsing or calculations, and any bug you "
      "have fixed, so it cannot come back.",
      "core logic first, then every bug you fix.")],
    [("Is it safe to use a password manager?",
      "For most people, yes. A reputable manager encrypts your vault with your master password, and it lets "
      "you use a unique, strong password everywhere, which protects you far more than remembering a few.",
      "yes, and far safer than reusing passwords."),
     ("Which features should I look for?",
      "End-to-end encryption, two-factor authentication for the vault, sync across your devices, a browser "
      "extension with autofill, and alerts for breached or reused passwords.",
      "strong encryption, two-factor login, sync and breach alerts.")],
]


# ---------------------------------------------------------------------------------------------
# Clean chat rows
# ---------------------------------------------------------------------------------------------

def lower_first(s: str) -> str:
    return s[0].lower() + s[1:]


def build_clean_rows(rng: random.Random) -> list[dict]:
    rows: list[list[dict]] = []

    for q, a, summary in FACTS:
        prefix, suffix = rng.choice(FACT_PREFIXES), rng.choice(FACT_SUFFIXES)
        if q in PLAIN_QUESTIONS:
            prefix = suffix = ""
        question = prefix + (lower_first(q) if prefix.endswith(", ") else q) + suffix
        rows.append([{"role": "user", "content": question}, {"role": "assistant", "content": reply(a, summary)}])

    for task, steps, summary in HOWTO:
        prompt = rng.choice(HOWTO_PROMPTS).format(t=task)
        body = rng.choice(HOWTO_INTROS) + "\n\n" + "\n".join(f"{i}. {s}" for i, s in enumerate(steps, 1))
        rows.append([{"role": "user", "content": prompt}, {"role": "assistant", "content": reply(body, summary)}])

    for lang, tag, task, src, explanation, summary in CODE:
        prompt = rng.choice(CODE_PROMPTS).format(t=task, lang=lang)
        body = f"{rng.choice(CODE_INTROS)}\n\n{code(tag, src)}\n\n{explanation}"
        rows.append([{"role": "user", "content": prompt}, {"role": "assistant", "content": reply(body, summary)}])

    for conv in CONVERSATIONS:
        msgs = []
        for user, answer, summary in conv:
            msgs += [{"role": "user", "content": user}, {"role": "assistant", "content": reply(answer, summary)}]
        rows.append(msgs)

    rng.shuffle(rows)
    out = []
    for msgs in rows:
        if rng.random() < 0.3:
            msgs = [{"role": "system", "content": rng.choice(SYSTEM_PROMPTS)}] + msgs
        out.append({"messages": msgs})

    prompts = [m["content"] for r in out for m in r["messages"] if m["role"] == "user"]
    dupes = {p for p in prompts if prompts.count(p) > 1}
    assert not dupes, f"user prompts must be unique: {sorted(dupes)}"
    return out


# ---------------------------------------------------------------------------------------------
# Long texts for the length rules (FTK301, FTK302)
# ---------------------------------------------------------------------------------------------

ONBOARDING_SECTIONS = [
    ("Your first day", "laptop setup", "the team channel", "your onboarding buddy"),
    ("Accounts and access", "the identity portal", "the access request form", "the security team"),
    ("Our data platform", "the warehouse", "the ingestion jobs", "the platform team"),
    ("How we write code", "the style guide", "code review", "the tech leads"),
    ("Testing and releases", "the test suite", "the release checklist", "the release manager"),
    ("Working with analysts", "the metrics catalogue", "the request board", "the analytics lead"),
    ("On-call and incidents", "the on-call rota", "the incident template", "the incident commander"),
    ("Documentation", "the team wiki", "the architecture notes", "the documentation owners"),
    ("Meetings and rituals", "the weekly planning", "the retrospective", "the team lead"),
    ("Learning and growth", "the learning budget", "the reading list", "your manager"),
    ("Privacy and compliance", "the data classification policy", "the retention rules", "the privacy office"),
    ("Your first month", "a starter project", "the feedback session", "your onboarding buddy"),
]
ONBOARDING_SENTENCES = [
    "Start by reading about {a} and write down any questions you have as you go.",
    "Most new joiners find that {b} makes much more sense after a short walkthrough, so ask for one early.",
    "If anything about {a} is unclear, {c} will be happy to help, and no question is too small.",
    "We review {b} every quarter, so suggestions for improving it are always welcome.",
    "Keep notes while you learn about {a}; they often become the next version of this guide.",
    "Remember that {b} exists to make everyone's work easier, not to slow you down.",
    "By the end of your second week you should feel comfortable with {a} and know where {b} lives.",
    "Past joiners say the most useful habit was to pair with a colleague on {b} during the first weeks.",
    "Changes to {a} are announced in the team channel, so keep an eye on it and react when you have read them.",
    "When you are unsure who owns something, ask {c} first rather than guessing.",
]


def onboarding_guide() -> str:
    parts = ["Welcome to the data team! This guide walks you through everything you need in your first weeks."]
    for title, a, b, c in ONBOARDING_SECTIONS:
        sentences = " ".join(s.format(a=a, b=b, c=c) for s in ONBOARDING_SENTENCES)
        parts.append(f"{title}\n\n{sentences[0].upper()}{sentences[1:]}")
    parts.append("In short: read, ask early, take notes, and lean on your buddy and the owners of each area.")
    return "\n\n".join(parts)


MINUTES_TOPICS = ["the migration timeline", "the hiring plan", "the customer survey", "the budget review",
                  "the office move", "the security audit", "the mobile release", "the pricing change",
                  "the support backlog", "the quarterly goals", "the vendor contract", "the training programme",
                  "the team offsite", "the documentation sprint", "the analytics dashboard", "the on-call rota"]
MINUTES_SENTENCES = [
    "The group discussed {t} at length and agreed that the current approach needs a clearer owner.",
    "Several people pointed out that {t} depends on work from other teams that has not started yet.",
    "It was noted that the previous update on {t} was shared late, which caused some confusion.",
    "The team agreed to collect more information about {t} before making a final decision.",
    "Everyone was asked to send their comments on {t} to the meeting organiser by the end of the week.",
    "There was a short debate about whether {t} should be split into smaller pieces of work.",
    "The meeting closed the item on {t} with a plan to revisit it at the next session.",
]


def meeting_transcript() -> str:
    parts = []
    for i, t in enumerate(MINUTES_TOPICS, 1):
        parts.append(f"Item {i}: " + " ".join(s.format(t=t) for s in MINUTES_SENTENCES))
    return "\n\n".join(parts)


# ---------------------------------------------------------------------------------------------
# The dirty chat file
# ---------------------------------------------------------------------------------------------

def dumps(obj: object) -> str:
    return json.dumps(obj, ensure_ascii=False)


def chat(*turns: tuple[str, str]) -> dict:
    return {"messages": [{"role": r, "content": c} for r, c in turns]}


def shout(row: dict) -> dict:
    """The same row, differently cased and spaced: an exact duplicate after normalisation."""
    msgs = []
    for m in row["messages"]:
        msgs.append({"role": m["role"], "content": "  " + m["content"].upper().replace(" ", "   ") + " "})
    return {"messages": msgs}


def chat_defects(clean: list[dict]) -> list[tuple[list[str], str, bytes | str, dict]]:
    """(planted codes, note, line, partners) for each defect, in file order.

    `line` is the raw text (or bytes) of the line; `partners` maps an index into `clean` to codes
    the clean row at that index is expected to get because of this defect.
    """
    d: list[tuple[list[str], str, bytes | str, dict]] = []

    def add(codes, note, line, partners=None):
        d.append((codes, note, line, partners or {}))

    q_only = "What is the quickest way to learn touch typing without getting bored?"
    add(["FTK001"], "truncated JSON: the closing brackets are missing",
        dumps(chat(("user", q_only), ("assistant", reply("Practise ten minutes a day with a game.", "daily.")))
              )[:-3])
    add(["FTK002"], "a JSON array, not an object",
        dumps(["What is the capital of Portugal?", "Lisbon is the capital of Portugal."]))
    add(["FTK003"], "a Latin-1 byte (0xE9) in the text: not UTF-8",
        dumps(chat(("user", "How do I pronounce the word cafe in French?"),
                   ("assistant", reply("Say ka-FAY, with the stress on the second syllable.", "ka-FAY."))))
        .encode().replace(b"cafe in", b"caf\xe9 in"))
    add(["FTK005"], "a blank line", "")
    add(["FTK006"], "keys match no format (question/answer)",
        dumps({"question": "What is the freezing point of water?",
               "answer": "Water freezes at 0 degrees Celsius, which is 32 degrees Fahrenheit."}))
    add(["FTK007"], "an alpaca row in a chat file",
        dumps({"instruction": "Give three tips for staying focused while studying.", "input": "",
               "output": "Put your phone in another room, work in 25-minute blocks, and take short breaks."}))
    add(["FTK008"], "the assistant message has no content",
        dumps({"messages": [{"role": "user", "content": "What is the best time of day to water a garden?"},
                            {"role": "assistant"}]}))
    add(["FTK009"], "messages is an empty list", dumps({"messages": []}))
    add(["FTK010"], "content is a number, not a string",
        dumps({"messages": [{"role": "user", "content": "How many minutes are there in a full day?"},
                            {"role": "assistant", "content": 1440}]}))
    add(["FTK011"], "a misspelt message key (contnet) next to content",
        dumps({"messages": [{"role": "user", "content": "How long should I steep green tea for?"},
                            {"role": "assistant", "content": reply(
                                "Two to three minutes in water at about 80 degrees Celsius. Hotter water or longer "
                                "steeping makes it bitter.", "two to three minutes, not boiling."),
                             "contnet": "Two to three minutes."}]}))
    add(["FTK101"], "an unknown role (bot); with no assistant turn left, FTK104 fires too",
        dumps(chat(("user", "What does a product manager actually do all day?"),
                   ("bot", reply("They decide what the team builds and why, talking to customers, designers and "
                                 "engineers to set priorities.", "they decide what gets built and why.")))))
    add(["FTK102"], "a system message after the user turn",
        dumps(chat(("user", "Which is healthier, brown rice or white rice?"),
                   ("system", SYSTEM_PROMPTS[0]),
                   ("assistant", reply("Brown rice keeps the bran, so it has more fibre, magnesium and B vitamins. "
                                       "White rice is easier to digest.", "brown rice, for its fibre.")))))
    add(["FTK103"], "two user turns in a row",
        dumps(chat(("user", "I want to repaint my bedroom this weekend."),
                   ("user", "What finish of paint should I use for the walls?"),
                   ("assistant", reply("Eggshell or satin: they wipe clean but hide small flaws better than gloss.",
                                       "eggshell or satin.")))))
    add(["FTK104"], "no assistant turn at all",
        dumps(chat(("user", "Can you recommend a good book about the history of mathematics?"))))
    add(["FTK105"], "ends with a user turn",
        dumps(chat(("user", "How do I make my sourdough starter more active?"),
                   ("assistant", reply("Feed it twice a day at room temperature with equal weights of flour and "
                                       "water, and use some whole grain flour.", "feed it more often, keep it warm.")),
                   ("user", "How long until it doubles reliably, do you think?"))))
    add(["FTK106"], "an empty assistant message",
        dumps(chat(("user", "What should I pack for a weekend hiking trip in the mountains?"), ("assistant", ""))))
    add(["FTK107"], "the assistant speaks first",
        dumps(chat(("assistant", "Hello! I can help you plan your week. What would you like to get done?"),
                   ("user", "I need to finish a report and prepare for a presentation on Thursday."),
                   ("assistant", reply("Do the report on Monday and Tuesday, draft the slides on Wednesday morning "
                                       "and rehearse that afternoon.", "report first, slides midweek, rehearse.")))))

    # FTK201: an upper-cased, re-spaced copy of a clean row (only the copy is reported).
    add(["FTK201"], "an exact duplicate of the clean row on {src}, upper-cased and re-spaced", shout(clean[12]),
        {12: []})
    # FTK202: the prompt of clean row {src} with a different answer: both rows are reported.
    src = next(i for i, r in enumerate(clean) if "capital of Canada?" in r["messages"][-2]["content"])
    contradiction = {"messages": clean[src]["messages"][:-1] + [
        {"role": "assistant", "content": reply("The capital of Canada is Toronto, its largest city.", "Toronto.")}]}
    add(["FTK202"], "same prompt as the clean row on {src}, with a different (wrong) answer", contradiction, {src: ["FTK202"]})
    # FTK203: clean row 30 with one word added to the question: a near-duplicate (only the copy is reported).
    near = json.loads(dumps(clean[30]))
    near["messages"][-2]["content"] = near["messages"][-2]["content"].rstrip("?.") + ", please?"
    add(["FTK203"], "clean row {src} with ', please' added to its question: a near-duplicate", near, {30: []})
    # FTK204: clean row 40's question reworded, with an answer that says something else: both reported.
    reworded = {"messages": clean[40]["messages"][:-2] + [
        {"role": "user", "content": clean[40]["messages"][-2]["content"].rstrip("?.") + " exactly?"},
        {"role": "assistant", "content": reply("Nobody really knows; it changes from year to year and depends on "
                                               "who you ask, so pick whatever suits you.", "it varies.")}]}
    add(["FTK204"], "clean row {src}'s question, reworded, with a contradicting answer", reworded, {40: ["FTK204"]})

    guide, minutes = onboarding_guide(), meeting_transcript()
    add(["FTK301"], f"a response of {len(guide):,} characters (> 2048 tokens, estimated or with the smollm2 tokenizer)",
        dumps(chat(("user", "Write a detailed onboarding guide for engineers joining our data team."),
                   ("assistant", guide))))
    add(["FTK302"], f"a prompt of {len(minutes):,} characters: it fills the max length and the response is cut off",
        dumps(chat(("user", "Summarise these meeting minutes in three bullet points:\n\n" + minutes),
                   ("assistant", reply("- Most items need a clear owner.\n- Several depend on other teams.\n"
                                       "- Comments are due by Friday.", "owners, dependencies, comments by Friday.")))))
    add(["FTK303"], "a response with no letters or digits",
        dumps(chat(("user", "Can you summarise the plot of Moby Dick in a single sentence?"), ("assistant", "..."))))

    add(["FTK401"], "mojibake (UTF-8 read as Latin-1)",
        dumps(chat(("user", "How much does a coffee cost at the station kiosk?"),
                   ("assistant", reply("A CafÃ© au lait costs â‚¬3 and an espresso costs â‚¬2.", "about three euros.")))))
    add(["FTK402"], "a U+FFFD replacement character",
        dumps(chat(("user", "Is it rude to ask a naive question in a meeting?"),
                   ("assistant", reply("Not at all. A na\ufffdve question often helps everyone in the room.",
                                       "ask it.")))))
    add(["FTK403"], "a control character (U+0007, bell)",
        dumps(chat(("user", "How do I make my terminal beep when a long command finishes?"),
                   ("assistant", reply("Append a bell to the command: long_job; printf '\a'. Most terminals then "
                                       "beep or flash.", "print the bell character at the end.")))))
    add(["FTK404"], "a chat-template token inside the answer",
        dumps(chat(("user", "What is a good name for a golden retriever puppy?"),
                   ("assistant", reply("Sunny, Maple or Biscuit all suit a golden retriever.", "Sunny.")
                    + "<|im_end|>\n<|im_start|>user\nThanks!"))))
    add(["FTK405"], "a placeholder answer (N/A)",
        dumps(chat(("user", "Describe the main differences between baroque and classical music."),
                   ("assistant", "N/A"))))
    add(["FTK406"], "AI refusal boilerplate",
        dumps(chat(("user", "What is your favourite season of the year and why?"),
                   ("assistant", "As an AI language model, I do not have personal preferences, but many people "
                                 "love autumn for its colours and cooler weather."))))
    add(["FTK407"], "text not in NFC (e + combining acute accent)",
        dumps(chat(("user", "How do I spell the word for a short summary of someone's career?"),
                   ("assistant", reply("It is re\u0301sume\u0301, often written resume in American English.",
                                       "resume, with or without accents.")))))

    add(["FTK501"], "an AWS access key id (made up, in the real format)",
        dumps(chat(("user", "Why does my deploy script fail with an authentication error?"),
                   ("assistant", reply("Your script hard-codes the access key AKIAQ3EGRZ7XJ4WLMBN2, and that key "
                                       "is not valid. Load credentials from the environment or an AWS profile instead.",
                                       "use real credentials from the environment.")))))
    add(["FTK502"], "a private key block",
        dumps(chat(("user", "Where should I put my SSH private key on a new laptop?"),
                   ("assistant", reply("Save it as ~/.ssh/id_rsa and run chmod 600 on it. It starts like this:\n\n"
                                       "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9u"
                                       "ZQAAAAAAAAAB\n-----END OPENSSH PRIVATE KEY-----",
                                       "~/.ssh, readable only by you.")))))
    add(["FTK503"], "a personal-looking e-mail address at a non-reserved domain",
        dumps(chat(("user", "Who do I contact about a refund for a cancelled order?"),
                   ("assistant", reply("Write to jane.placeholder@fake-shop-mail.com with your order number and "
                                       "the reason for the refund.", "e-mail support with your order number.")))))
    add(["FTK504"], "a phone number (a UK drama number from the Ofcom fictional range)",
        dumps(chat(("user", "How can I reach the hotel reception from abroad?"),
                   ("assistant", reply("Call the front desk on +44 20 7946 0958; it is staffed day and night.",
                                       "call the front desk.")))))

    add(["FTK601"], "a French row",
        dumps(chat(("user", "Comment préparer une bonne pâte à crêpes pour quatre personnes ?"),
                   ("assistant", "Mélangez 250 g de farine, 4 œufs et un demi-litre de lait, ajoutez une pincée de "
                                 "sel, puis laissez reposer la pâte une heure avant de faire cuire les crêpes."))))
    add(["FTK601"], "a German row",
        dumps(chat(("user", "Wie kann ich meinen Router neu starten, ohne die Einstellungen zu verlieren?"),
                   ("assistant", "Ziehen Sie einfach den Netzstecker, warten Sie etwa dreißig Sekunden und stecken "
                                 "Sie ihn wieder ein. Die Einstellungen bleiben dabei erhalten."))))
    return d


def build_dirty_chat(clean: list[dict]) -> tuple[list[bytes], dict]:
    clean_lines = [dumps(r).encode() for r in clean]
    defects = chat_defects(clean)
    lines: list[bytes] = []
    planted: dict[int, list[str]] = {}
    notes: dict[int, str] = {}
    partners: dict[int, list[str]] = {}
    clean_line_no: dict[int, int] = {}  # index in clean -> line in the dirty file
    pending = list(defects)

    def plant(raw, codes, note, parts):
        if isinstance(raw, dict):
            raw = dumps(raw)
        lines.append(raw if isinstance(raw, bytes) else raw.encode())
        n = len(lines)
        planted[n] = codes
        src = next(iter(parts), None)
        notes[n] = note.format(src=f"line {clean_line_no[src]}") if src is not None else note
        for p, pcodes in parts.items():
            if pcodes:
                partners[clean_line_no[p]] = pcodes

    # Line 1: the first clean row behind a byte-order mark.
    lines.append(b"\xef\xbb\xbf" + clean_lines[0])
    planted[1], notes[1] = ["FTK004"], "a UTF-8 byte-order mark before the first (clean) row"
    clean_line_no[0] = 1
    rng = random.Random(SEED + 1)
    gap = 2
    for i in range(1, len(clean)):
        lines.append(clean_lines[i])
        clean_line_no[i] = len(lines)
        gap -= 1
        # After every two to four clean rows, plant the next defect whose partner rows are already written.
        if gap == 0:
            gap = rng.choice((2, 3, 3, 4))
            k = next((k for k, (_c, _n, _r, parts) in enumerate(pending)
                      if all(p in clean_line_no for p in parts)), None)
            if k is not None:
                codes, note, raw, parts = pending.pop(k)
                plant(raw, codes, note, parts)
    while pending:  # not enough slots: the rest go at the end
        codes, note, raw, parts = pending.pop(0)
        plant(raw, codes, note, parts)
    expected = {"rows": len(lines), "planted": planted, "partners": partners, "notes": notes}
    return lines, expected


# ---------------------------------------------------------------------------------------------
# Alpaca, DPO and ShareGPT files
# ---------------------------------------------------------------------------------------------

ALPACA_CLEAN = [
    ("Classify the sentiment of this product review as positive, negative or mixed.",
     "The battery lasts all day and the screen is gorgeous, but the speakers are tinny.",
     "Mixed. The reviewer praises the battery and the screen but criticises the speakers."),
    ("Rewrite the sentence in the passive voice.", "The committee approved the new budget on Monday.",
     "The new budget was approved by the committee on Monday."),
    ("Give three ideas for a rainy Sunday afternoon with children.", "",
     "Build a blanket fort and read stories inside it, bake and decorate simple cookies, or hold a board game "
     "tournament with small prizes."),
    ("Translate the sentence into plain English.",
     "Per our previous correspondence, kindly revert at your earliest convenience.",
     "As we discussed before, please reply as soon as you can."),
    ("Summarise the paragraph in one sentence.",
     "Bees pollinate about a third of the crops we eat. As their numbers fall because of habitat loss, "
     "pesticides and disease, farmers face lower yields and higher costs, and some now rent hives to keep "
     "their orchards productive.",
     "Falling bee numbers threaten the crops that depend on pollination, pushing up costs for farmers."),
    ("Explain what a recursive function is, in two sentences.", "",
     "A recursive function is one that calls itself to solve a smaller version of the same problem. It needs "
     "a base case that stops the calls, such as returning 1 when computing the factorial of 0."),
    ("Suggest a name for a bakery that specialises in sourdough bread.", "",
     "Rise and Crumb: it hints at the slow fermentation of sourdough and at the crust and crumb of a good loaf."),
    ("Correct the grammar in the sentence.", "Me and him goes to the library every tuesdays.",
     "He and I go to the library every Tuesday."),
    ("List the planets of the solar system in order from the Sun.", "",
     "Mercury, Venus, Earth, Mars, Jupiter, Saturn, Uranus and Neptune."),
    ("Write a haiku about the first snow of winter.", "",
     "Quiet morning streets\nfirst snow settles on the roofs\nfootprints, then no sound"),
    ("Extract the dates mentioned in the text.",
     "The contract was signed on 3 March 2021 and renewed on 15 January 2023.",
     "3 March 2021 and 15 January 2023."),
    ("Convert the temperature from Fahrenheit to Celsius and show the working.", "68 degrees Fahrenheit",
     "Subtract 32 to get 36, then multiply by 5 and divide by 9: 68 degrees Fahrenheit is 20 degrees Celsius."),
    ("Explain the difference between a list and a tuple in Python.", "",
     "Both are ordered sequences, but a list is mutable, so you can add, remove and change items, while a "
     "tuple is immutable once created. Tuples can also be used as dictionary keys."),
    ("Write a polite reply declining a meeting invitation.",
     "Invitation: project kickoff, Thursday at 10am.",
     "Thank you for the invitation. Unfortunately I cannot attend on Thursday morning, but I would be glad to "
     "catch up on the notes afterwards."),
    ("Give a one-sentence definition of photosynthesis suitable for a ten-year-old.", "",
     "Photosynthesis is how plants use sunlight to turn air and water into the food they need to grow."),
]


def build_alpaca() -> tuple[list[bytes], dict]:
    rows = [dumps({"instruction": i, "input": x, "output": o}) for i, x, o in ALPACA_CLEAN]
    defects = [
        (3, ["FTK008"], "no output field",
         dumps({"instruction": "Name the largest ocean on Earth.", "input": ""})),
        (6, ["FTK009"], "the output is only whitespace",
         dumps({"instruction": "Write a slogan for a bicycle repair shop.", "input": "", "output": "   "})),
        (9, ["FTK405"], "a placeholder output (<nooutput>)",
         dumps({"instruction": "Describe the photo attached to this message in detail.", "input": "",
                "output": "<nooutput>"})),
        (11, ["FTK201"], "an exact duplicate of line 2 with different case and spacing",
         dumps({"instruction": ALPACA_CLEAN[1][0].upper(), "input": "  " + ALPACA_CLEAN[1][1],
                "output": ALPACA_CLEAN[1][2].lower() + "  "})),
        (14, ["FTK011"], "an unknown key (response) next to output",
         dumps({"instruction": "Name a fruit that is high in potassium.", "input": "",
                "output": "Bananas are a good source of potassium.",
                "response": "Bananas."})),
        (17, ["FTK007"], "a chat row in an alpaca file",
         dumps(chat(("user", "Recommend a board game for four players."),
                    ("assistant", "Try Ticket to Ride: easy to learn and fun with four.")))),
        (19, ["FTK504"], "a phone number (North American 555 fictional range), in the input and the output",
         dumps({"instruction": "Rewrite the note so it sounds friendlier.",
                "input": "Call (555) 010-4477 about your overdue invoice.",
                "output": "Hi there! When you have a moment, could you give us a call on (555) 010-4477 about "
                          "your invoice? Thank you!"})),
    ]
    return _merge(rows, defects)


def _merge(clean_lines: list[str], defects) -> tuple[list[bytes], dict]:
    """Insert each defect so that it lands on its stated 1-based line."""
    lines = [s.encode() for s in clean_lines]
    planted, notes = {}, {}
    for line, codes, note, raw in defects:  # in ascending line order
        lines.insert(line - 1, raw.encode())
        planted[line], notes[line] = codes, note
    return lines, {"rows": len(lines), "planted": planted, "partners": {}, "notes": notes}


DPO_CLEAN = [
    ("Explain what a hash table is in two sentences.",
     "A hash table stores key-value pairs and uses a hash function to turn each key into an array position, "
     "so lookups take constant time on average. Collisions, when two keys land in the same slot, are handled "
     "with chaining or probing.",
     "A hash table is a kind of table that uses hashes. It is very fast and used in many programs."),
    ("What should I do if my laptop gets wet?",
     "Turn it off at once and unplug it, remove the battery if you can, and place it upside down on a towel. "
     "Let it dry for at least 48 hours before switching it on, and have it checked if it still misbehaves.",
     "Put it in a bag of rice and turn it on again after an hour to see if it still works."),
    ("Give me a tip for writing clearer emails.",
     "Put the request or decision in the first sentence, then the context. Busy readers may not get past the "
     "first two lines.",
     "Write longer emails with lots of background so the reader understands everything before you get to your "
     "point."),
    ("How do I convert a string to an integer in Python?",
     "Use int(): int(\"42\") returns 42. It raises ValueError for text that is not a number, so wrap it in "
     "try/except when the input comes from users.",
     "You can use the number function, like number(\"42\"), which converts it."),
    ("Why should I stretch after exercise?",
     "Gentle stretching after exercise helps you cool down and keeps your muscles and joints moving through "
     "their full range, which supports flexibility over time.",
     "Stretching is mostly useless and you can skip it whenever you feel like it."),
    ("Recommend a way to learn vocabulary in a new language.",
     "Use spaced repetition: review flashcards just as you are about to forget them, with an app such as Anki, "
     "and learn words in short example sentences rather than alone.",
     "Read the dictionary from A to Z, a few pages every day, until you know all the words."),
    ("What is the difference between HTTP and HTTPS?",
     "HTTPS is HTTP over an encrypted TLS connection. It keeps data private in transit and proves the server's "
     "identity with a certificate, so it should be used for every website.",
     "HTTPS is just a faster version of HTTP that some sites use."),
]


def build_dpo() -> tuple[list[bytes], dict]:
    rows = [dumps({"prompt": p, "chosen": c, "rejected": r}) for p, c, r in DPO_CLEAN]
    defects = [
        (3, ["FTK008"], "no rejected response",
         dumps({"prompt": "Suggest a healthy breakfast that takes five minutes.",
                "chosen": "Greek yoghurt with berries and a handful of oats: protein, fibre and no cooking."})),
        (6, ["FTK406"], "refusal boilerplate in the rejected response",
         dumps({"prompt": "Write a two-line poem about the sea.",
                "chosen": "The sea rolls in with silver light,\nand folds the day into the night.",
                "rejected": "I'm sorry, but I cannot write poetry about the sea for you today."})),
        (9, ["FTK010"], "chosen is a number, not text",
         dumps({"prompt": "How many legs does a spider have?", "chosen": 8,
                "rejected": "Spiders have six legs, like all insects."})),
    ]
    return _merge(rows, defects)


SHAREGPT_CLEAN = [
    [("human", "What is a good first programming language?"),
     ("gpt", "Python is a great first language: its syntax is readable, and it is used for everything from web "
             "apps to data science.")],
    [("system", "You are a helpful travel assistant."),
     ("human", "What is the best month to visit Japan?"),
     ("gpt", "Late March to early April for the cherry blossoms, or November for autumn colours; both have mild "
             "weather.")],
    [("human", "How do I keep my knives sharp?"),
     ("gpt", "Hone them on a steel before each use, sharpen them on a whetstone a few times a year, and never "
             "put them in the dishwasher."),
     ("human", "Which whetstone grit should I buy first?"),
     ("gpt", "A combination stone with 1000 grit on one side and 6000 on the other covers most needs.")],
    [("human", "Why do onions make you cry?"),
     ("gpt", "Cutting an onion releases a gas that irritates your eyes, and they produce tears to wash it away. "
             "Chilling the onion first helps.")],
    [("human", "Can you suggest a name for a small gardening blog?"),
     ("gpt", "How about The Weekend Plot? It sounds friendly and suits a hobby garden.")],
    [("human", "What is the difference between a comet and an asteroid?"),
     ("gpt", "Asteroids are mostly rock and metal; comets are made of ice and dust and grow glowing tails when "
             "they come close to the Sun.")],
    [("human", "How do I politely end a long phone call?"),
     ("gpt", "Summarise what you agreed, thank the other person for their time, and say you need to go, for "
             "example to get back to work.")],
]


def build_sharegpt() -> tuple[list[bytes], dict]:
    rows = [{"conversations": [{"from": f, "value": v} for f, v in conv]} for conv in SHAREGPT_CLEAN]
    defects = [
        (2, ["FTK101"], "an unknown speaker name (bot); with no assistant turn left, FTK104 fires too",
         {"conversations": [{"from": "human", "value": "What is the tallest animal in the world?"},
                            {"from": "bot", "value": "The giraffe, which can be almost six metres tall."}]}),
        (5, ["FTK103"], "two human turns in a row",
         {"conversations": [{"from": "human", "value": "I am planning a picnic for Saturday."},
                            {"from": "human", "value": "What food travels well in warm weather?"},
                            {"from": "gpt", "value": "Wraps, pasta salad, fruit and crackers keep well without a "
                                                     "fridge; skip anything with mayonnaise."}]}),
        (8, ["FTK011"], "an unknown message key (text)",
         {"conversations": [{"from": "human", "value": "How often should I replace my toothbrush?"},
                            {"from": "gpt", "value": "Every three months, or sooner if the bristles are frayed.",
                             "text": "Every three months."}]}),
    ]
    for line, *_rest, row in defects:
        rows.insert(line - 1, row)
    # A pretty-printed JSON array: each element starts on its own line; record numbers are element lines.
    text, lines, element_lines = "[\n", 2, []
    for i, row in enumerate(rows):
        block = textwrap.indent(json.dumps(row, ensure_ascii=False, indent=2), "  ")
        element_lines.append(lines)
        text += block + (",\n" if i < len(rows) - 1 else "\n")
        lines += block.count("\n") + 1
    text += "]\n"
    planted = {element_lines[line - 1]: codes for line, codes, _note, _row in defects}
    notes = {element_lines[line - 1]: note for line, _codes, note, _row in defects}
    return [text.encode()], {"rows": len(rows), "planted": planted, "partners": {}, "notes": notes}


# ---------------------------------------------------------------------------------------------

def render() -> dict[str, bytes]:
    rng = random.Random(SEED)
    clean = build_clean_rows(rng)
    files: dict[str, bytes] = {"clean_chat.jsonl": b"".join(dumps(r).encode() + b"\n" for r in clean)}
    for name, (lines, expected) in {
        "dirty_chat.jsonl": build_dirty_chat(clean),
        "alpaca.jsonl": build_alpaca(),
        "dpo.jsonl": build_dpo(),
    }.items():
        files[name] = b"".join(line + b"\n" for line in lines)
        files[name.replace(".jsonl", ".expected.json")] = _expected_json(expected)
    blob, expected = build_sharegpt()
    files["sharegpt.json"] = blob[0]
    files["sharegpt.expected.json"] = _expected_json(expected)
    return files


def _expected_json(expected: dict) -> bytes:
    """One entry a line, so that the planted table reads at a glance."""
    def block(d: dict) -> str:
        if not d:
            return "{}"
        items = [f"    {json.dumps(str(k))}: {json.dumps(v, ensure_ascii=False)}" for k, v in sorted(d.items())]
        return "{\n" + ",\n".join(items) + "\n  }"
    return (f'{{\n  "rows": {expected["rows"]},\n  "planted": {block(expected["planted"])},\n'
            f'  "partners": {block(expected["partners"])},\n  "notes": {block(expected["notes"])}\n}}\n').encode()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="exit 1 if a committed file differs from the output")
    args = ap.parse_args()
    stale = []
    for name, data in render().items():
        path = HERE / name
        if args.check:
            if not path.exists() or path.read_bytes() != data:
                stale.append(name)
        else:
            path.write_bytes(data)
    if stale:
        print("out of date: " + ", ".join(stale) + " (run python sample_data/make_samples.py)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

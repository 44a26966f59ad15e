"""The offline scriptwriter's fixed lines: on-screen headings and connective sentences per part.

``head`` lines open a part, ``fill`` lines pad it to its length (the
``_any`` pool serves every part), ``tail`` lines end it. Placeholders are
filled from the brief and plan (:func:`reelgraph.plugins.roles._writer.write_beats`);
``{objectives}`` and ``{messages}`` stand for one sentence per item. The
lines are connective phrases with no factual claim: facts come from the
brief and the source document.
"""

from __future__ import annotations

__all__ = ["HEADINGS", "LINES"]

#: the on-screen heading of each part, by template
HEADINGS: dict[str, dict[str, str]] = {
    "presentation": {
        "hook": "{title}", "context": "Who this is for", "problem": "The problem",
        "stakes": "Why it matters", "approach": "The approach", "proof": "Why it works",
        "call_to_action": "What to do next", "close": "Thank you",
    },
    "educational": {
        "hook": "{title}", "context": "Learning objectives", "problem": "The key idea",
        "stakes": "Why it matters", "approach": "How it works", "proof": "Check your understanding",
        "call_to_action": "Practice", "close": "Recap",
    },
}  # fmt: skip

#: fixed lines per part: ``head`` opens the beat, ``fill`` pads it to its length, ``tail`` ends it
LINES: dict[str, dict[str, dict[str, list[str]]]] = {
    "presentation": {
        "_any": {
            "fill": [
                "Let us look at that a little more closely.",
                "Here is the short version.",
                "It is simpler than it sounds.",
                "Think about how this applies to your own work.",
                "This is the part that is easy to miss.",
                "Keep that in mind for what comes next.",
            ]
        },
        "hook": {
            "head": ["{title}."],
            "fill": [
                "In the next {duration_words}, here is what you need to know.",
                "It comes down to {count_words}.",
                "Stay with us, because each one matters.",
                "Let us get straight to it.",
            ],
        },
        "context": {
            "head": ["This video is for {audience}.", "The goal is simple.", "{goal}"],
            "fill": [
                "No special background is needed to follow along.",
                "We keep it {tone}.",
                "Here is the background before we begin.",
            ],
        },
        "problem": {
            "head": ["Let us start with the problem."],
            "fill": [
                "It is a familiar situation for {audience_phrase}.",
                "And it rarely fixes itself.",
                "Keep it in mind as we go on.",
            ],
        },
        "stakes": {
            "head": ["Why does this matter?"],
            "fill": [
                "Getting this right makes a real difference for {audience_phrase}.",
                "Getting it wrong costs time, money and trust.",
                "That is why it deserves your attention now.",
            ],
        },
        "approach": {
            "head": ["So what is the approach?"],
            "fill": [
                "Take it one step at a time.",
                "Each step is small, and each one builds on the last.",
                "Start where the need is greatest.",
                "Then make it a habit.",
            ],
        },
        "proof": {
            "head": ["How do we know it works?"],
            "fill": [
                "Look at the results, not the promises.",
                "Small, steady improvements add up quickly.",
                "The evidence points the same way.",
            ],
        },
        "call_to_action": {
            "head": ["Here is what to do next.", "{goal}"],
            "fill": [
                "Start small, and start this week.",
                "Pick one step and try it today.",
                "Share this video with a colleague who needs it.",
            ],
        },
        "close": {
            "head": ["To sum up."],
            "fill": [
                "{messages}",
                "Those are the points to remember.",
                "Keep them close as you put this into practice.",
            ],
            "tail": ["Thank you for watching."],
        },
    },
    "educational": {
        "_any": {
            "fill": [
                "Let us go over that once more, slowly.",
                "Think of an example from your own experience.",
                "Say it back to yourself in your own words.",
                "Notice how each idea connects to the next.",
                "This is a good moment to write it down.",
            ]
        },
        "hook": {
            "head": ["{title}."],
            "fill": [
                "Have you ever wondered how this works?",
                "In the next {duration_words}, you will find out.",
                "Let us learn it together, one step at a time.",
            ],
        },
        "context": {
            "head": [
                "Here is what you will learn.",
                "{objectives}",
                "This lesson is for {audience}.",
            ],
            "fill": [
                "No special background is needed.",
                "Take notes as you go.",
            ],
        },
        "problem": {
            "head": ["Let us start with the key idea."],
            "fill": [
                "Everything else in this lesson builds on it.",
                "Keep this idea in mind.",
            ],
        },
        "stakes": {
            "head": ["Why does this matter to you?"],
            "fill": [
                "You will use this again and again.",
                "It makes the next lessons easier.",
            ],
        },
        "approach": {
            "head": ["Here is how it works, step by step."],
            "fill": [
                "First, look at the big picture.",
                "Then, take it one part at a time.",
                "Finally, put the parts back together.",
            ],
        },
        "proof": {
            "head": [
                "Time to check your understanding.",
                "Can you {first_objective}?",
                "Pause the video and think about your answer.",
                "Here is the answer.",
                "{first_message}",
            ],
            "fill": [
                "Compare it with your own answer.",
                "If they differ, watch the explanation again.",
            ],
        },
        "call_to_action": {
            "head": ["Now practise it yourself."],
            "fill": [
                "Try it on an example of your own.",
                "Then explain it to someone else.",
                "Teaching is the best test of learning.",
            ],
        },
        "close": {
            "head": ["Let us recap."],
            "recap": ["{messages}"],
            "fill": ["You can now {first_objective}."],
            "tail": ["Well done, and thank you for learning with us."],
        },
    },
}

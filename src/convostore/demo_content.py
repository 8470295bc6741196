"""The text of the demo data: video chats, agent, team and workflow conversations, user memories.

Pure data, no logic: `convostore.demo` turns these scripts into sessions with ids, timestamps and
metrics. The scripts are written to look like real use, so the web UI, the compatibility APIs and
search have something believable to show.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# --- video chat (memories.ai style) -----------------------------------------------------------


@dataclass(frozen=True)
class Video:
    id: str
    name: str
    duration: float


@dataclass(frozen=True)
class Cite:
    """One timed piece of evidence: `video` indexes the chat's videos."""

    video: int
    kind: str
    start: float
    end: float | None = None
    text: str | None = None


@dataclass(frozen=True)
class VideoTurn:
    question: str
    answer: str
    thinkings: tuple[tuple[str, str], ...]
    cites: tuple[Cite, ...]


@dataclass(frozen=True)
class VideoChat:
    videos: tuple[Video, ...]
    turns: tuple[VideoTurn, ...]
    user: str = "default"  # who asks, so sessions and memories tell one story per user


RETRIEVAL = "Information Retrieval"
ANALYSIS = "Video Analysis"
ANSWER = "Answer Planning"

VIDEO_CHATS: tuple[VideoChat, ...] = (
    VideoChat(
        user="alice",
        videos=(Video("VI606140356924534784", "pasta_carbonara_tutorial", 612),),
        turns=(
            VideoTurn(
                "At what point does the chef add the eggs, and is the pan still on the heat?",
                "The egg and cheese mixture goes in at about 4:12. Just before that (around "
                "4:05) the chef lifts the pan off the burner and says she is letting it cool "
                "for a few seconds so the eggs turn creamy instead of scrambling. She then "
                "tosses the pasta continuously and adds a splash of pasta water at 4:31 to "
                "loosen the sauce.",
                (
                    (
                        RETRIEVAL,
                        "The user wants the moment the eggs are added and whether the heat is "
                        "on. I should look for the step where the egg mixture is poured and "
                        "check the narration around it for any mention of the burner.",
                    ),
                    (
                        ANALYSIS,
                        "Keyframes near 4:05 show the pan held above the counter, away from "
                        "the stove; the transcript at 4:06 mentions taking it off the heat.",
                    ),
                ),
                (
                    Cite(0, "keyframe", 245),
                    Cite(
                        0,
                        "visual_ts",
                        250,
                        258,
                        "A woman pours a yellow egg and cheese mixture from a small bowl into "
                        "a steel pan of spaghetti held away from the stove.",
                    ),
                    Cite(
                        0,
                        "audio_ts",
                        244,
                        252,
                        "Take it off the heat for a second, otherwise you'll end up with "
                        "scrambled eggs.",
                    ),
                ),
            ),
            VideoTurn(
                "How much pecorino does she use?",
                "She grates roughly 60 grams of pecorino romano into the eggs (shown on the "
                "scale at 2:48) and adds another handful on top when plating at 9:40.",
                (
                    (
                        RETRIEVAL,
                        "Look for the ingredient preparation segment and any on-screen "
                        "quantities for the cheese.",
                    ),
                ),
                (
                    Cite(0, "keyframe", 168),
                    Cite(
                        0,
                        "visual_ts",
                        166,
                        172,
                        "A digital kitchen scale reads 60 g under a mound of finely grated "
                        "white cheese.",
                    ),
                    Cite(0, "visual_ts", 578, 584, "Grated cheese is sprinkled over a plate."),
                ),
            ),
            VideoTurn(
                "Does she use guanciale or bacon?",
                "Guanciale. She holds it up at 1:15 and explains that it is cured pork cheek, "
                "and that pancetta works as a substitute, but she advises against smoked "
                "bacon because the smoke overpowers the sauce.",
                (
                    (
                        RETRIEVAL,
                        "Search the early ingredient overview for the cured meat.",
                    ),
                ),
                (
                    Cite(
                        0,
                        "audio_ts",
                        72,
                        84,
                        "This is guanciale, cured pork cheek. Pancetta is fine, but please "
                        "not smoked bacon.",
                    ),
                    Cite(0, "keyframe", 75),
                ),
            ),
        ),
    ),
    VideoChat(
        user="erin",
        videos=(
            Video("VI606152848719400960", "kyoto_day2_vlog", 1284),
            Video("VI606152911334563840", "fushimi_inari_walk", 540),
        ),
        turns=(
            VideoTurn(
                "Which temples and shrines show up in these videos, and roughly when?",
                "Three places appear:\n\n"
                "1. **Kiyomizu-dera** in the Kyoto vlog from about 2:10 to 6:45, including "
                "the wooden stage and the view over the city.\n"
                "2. **Yasaka Shrine** briefly at 11:30 in the same vlog, during the evening "
                "walk through Gion.\n"
                "3. **Fushimi Inari Taisha** is the whole second video; the torii gate "
                "tunnels start at 0:40.",
                (
                    (
                        RETRIEVAL,
                        "Two videos are in scope. I need to list every religious site that "
                        "appears and give time ranges for each.",
                    ),
                    (
                        ANALYSIS,
                        "Matched signage and narration: the vlogger names Kiyomizu-dera at "
                        "2:14 and Yasaka at 11:32; the second video's title and visuals are "
                        "the orange torii of Fushimi Inari.",
                    ),
                ),
                (
                    Cite(0, "visual_ts", 130, 405, "A large wooden temple hall on pillars."),
                    Cite(0, "audio_ts", 132, 140, "So this is Kiyomizu-dera, the famous stage."),
                    Cite(0, "keyframe", 690),
                    Cite(1, "visual_ts", 40, 95, "A path through rows of orange torii gates."),
                ),
            ),
            VideoTurn(
                "Is there any footage of Fushimi Inari early in the morning with no crowds?",
                "Yes. The opening minute of the walk video was filmed just after sunrise "
                "(the vlogger says it is 6:20 am at 0:05), and the gates are empty until "
                "about 1:50, when the first group of visitors passes.",
                (
                    (
                        RETRIEVAL,
                        "Check the start of the Fushimi Inari video for lighting and crowd "
                        "density, and any time mentioned in the narration.",
                    ),
                ),
                (
                    Cite(1, "audio_ts", 3, 9, "It's six twenty in the morning and it's empty."),
                    Cite(
                        1,
                        "visual_ts",
                        10,
                        108,
                        "Low golden light on an empty stone path lined with torii gates.",
                    ),
                    Cite(1, "keyframe", 111),
                ),
            ),
        ),
    ),
    VideoChat(
        user="bob",
        videos=(Video("VI606163590228754432", "front_door_cam_0614", 3600),),
        turns=(
            VideoTurn(
                "When was the package delivered and who picked it up?",
                "A courier in a blue uniform leaves a medium cardboard box on the doormat at "
                "14:07 (7:12 into the clip). It stays there until 14:41 (41:30), when a "
                "person in a grey hoodie who arrives from the driveway picks it up and goes "
                "inside with a key, so it looks like a resident rather than a stranger.",
                (
                    (
                        RETRIEVAL,
                        "Find the delivery event and the pickup event in an hour of doorbell "
                        "footage.",
                    ),
                    (
                        ANALYSIS,
                        "Two motion segments involve the box: placement at 432 s and pickup "
                        "at 2490 s. The second person unlocks the door, which suggests they "
                        "live there.",
                    ),
                ),
                (
                    Cite(0, "keyframe", 432),
                    Cite(
                        0,
                        "visual_ts",
                        425,
                        440,
                        "A courier in a blue shirt sets a cardboard box down on the doormat.",
                    ),
                    Cite(
                        0,
                        "visual_ts",
                        2484,
                        2502,
                        "A person in a grey hoodie lifts the box and unlocks the front door.",
                    ),
                ),
            ),
            VideoTurn(
                "Did anyone else come to the door that hour?",
                "Only once more: at 14:22 (22:05) a neighbour with a dog walks up the path, "
                "looks at the box, and leaves without touching it.",
                ((RETRIEVAL, "Scan the remaining motion segments for people at the door."),),
                (
                    Cite(
                        0,
                        "visual_ts",
                        1325,
                        1348,
                        "A person walking a small dog stops briefly near the door.",
                    ),
                ),
            ),
        ),
    ),
    VideoChat(
        user="dave",
        videos=(Video("VI606171204458188800", "q3_planning_meeting", 2710),),
        turns=(
            VideoTurn(
                "Summarise the decisions made about the launch date.",
                "The team agreed to move the public launch from 2 September to 16 September. "
                "Reasons given: the payments integration still fails two of the partner "
                "bank's certification checks (raised by Priya at 12:40), and support wants "
                "a week to train on the new dashboard. A private beta for the twenty design "
                "partners still starts on 2 September. Marco owns the new date and will "
                "confirm it in Thursday's sync.",
                (
                    (
                        RETRIEVAL,
                        "The question is about decisions, so I should focus on the parts of "
                        "the transcript where dates are proposed and agreed.",
                    ),
                    (
                        ANSWER,
                        "List the decision first, then the reasons and owners, keeping it "
                        "short enough to paste into a status update.",
                    ),
                ),
                (
                    Cite(
                        0,
                        "audio_ts",
                        760,
                        795,
                        "We're still failing two of the certification checks on the payments side.",
                    ),
                    Cite(
                        0,
                        "audio_ts",
                        1880,
                        1912,
                        "Okay, so public launch on the sixteenth, beta stays on the second.",
                    ),
                    Cite(0, "keyframe", 1890),
                ),
            ),
            VideoTurn(
                "Who raised concerns about the onboarding flow?",
                "Jonas did, at about 24:15. He showed a funnel chart where 38% of trial "
                "users drop off at the workspace-invite step and suggested making that "
                "step skippable.",
                ((RETRIEVAL, "Search the transcript for onboarding and the speaker."),),
                (
                    Cite(
                        0,
                        "visual_ts",
                        1452,
                        1470,
                        "A shared screen shows a funnel chart with a large drop at step 3.",
                    ),
                    Cite(
                        0,
                        "audio_ts",
                        1455,
                        1490,
                        "Thirty-eight percent drop at the invite step; can we make it optional?",
                    ),
                ),
            ),
        ),
    ),
    VideoChat(
        user="carol",
        videos=(Video("VI606189946321133568", "u12_soccer_final", 3120),),
        turns=(
            VideoTurn(
                "Show me every goal and who scored.",
                "There are three goals:\n\n"
                "- **8:32** - number 9 in red, a low shot into the near corner after a "
                "throw-in.\n"
                "- **21:05** - number 14 in white, a header from a corner.\n"
                "- **47:50** - number 9 in red again, a breakaway in the second half that "
                "decides the match 2-1.",
                (
                    (
                        RETRIEVAL,
                        "Goals show up as celebrations, the crowd cheering and the restart "
                        "from the centre circle. Check each candidate.",
                    ),
                ),
                (
                    Cite(0, "keyframe", 512),
                    Cite(0, "visual_ts", 505, 520, "A player in red shoots past the keeper."),
                    Cite(0, "keyframe", 1265),
                    Cite(0, "visual_ts", 2862, 2878, "A red number 9 runs clear and scores."),
                    Cite(0, "audio_ts", 2870, 2880, "Loud cheering from the sideline."),
                ),
            ),
        ),
    ),
    VideoChat(
        user="dave",
        videos=(Video("VI606204112876498944", "intro_to_transformers_lecture", 4020),),
        turns=(
            VideoTurn(
                "Where does the lecturer explain attention masks?",
                "From 38:20 to 44:05. She first draws the full attention matrix on the "
                "whiteboard, then shades the upper triangle to show causal masking for "
                "decoding, and at 42:30 explains padding masks for batches of different "
                "lengths.",
                (
                    (
                        RETRIEVAL,
                        "Look for the segment where masking is introduced, likely after the "
                        "scaled dot-product attention part.",
                    ),
                ),
                (
                    Cite(
                        0,
                        "visual_ts",
                        2300,
                        2645,
                        "A whiteboard grid with the upper-right triangle shaded.",
                    ),
                    Cite(
                        0,
                        "audio_ts",
                        2550,
                        2580,
                        "Padding masks make sure shorter sequences don't attend to padding.",
                    ),
                    Cite(0, "keyframe", 2330),
                ),
            ),
            VideoTurn(
                "Does she say positional encodings are learned or fixed?",
                "Both are mentioned. At 29:40 she presents the fixed sinusoidal encodings "
                "from the original paper, then says many later models learn them instead, "
                "and that rotary embeddings are the common choice today.",
                (
                    (
                        RETRIEVAL,
                        "Find the positional encoding section and check which variant she "
                        "recommends.",
                    ),
                ),
                (
                    Cite(
                        0,
                        "audio_ts",
                        1780,
                        1830,
                        "The original paper used fixed sinusoids, but you can just learn them.",
                    ),
                ),
            ),
        ),
    ),
    VideoChat(
        user="default",
        videos=(Video("VI606219876543201280", "replace_bike_brake_pads", 498),),
        turns=(
            VideoTurn(
                "What tool is used to remove the retaining pin?",
                "Needle-nose pliers. At 1:42 the mechanic straightens the split pin with "
                "them and pulls it out from the back of the caliper.",
                ((RETRIEVAL, "Find the step where the pad retaining pin is removed."),),
                (
                    Cite(0, "keyframe", 102),
                    Cite(
                        0,
                        "visual_ts",
                        98,
                        110,
                        "Pliers grip a small metal pin at the back of a disc brake caliper.",
                    ),
                ),
            ),
            VideoTurn(
                "How does he push the pistons back?",
                "With a plastic tyre lever, at 3:05, so the pistons are not scratched. He "
                "warns not to squeeze the brake lever while the pads are out.",
                ((RETRIEVAL, "Look for the piston reset step after the old pads come out."),),
                (
                    Cite(0, "visual_ts", 180, 196, "A blue plastic lever pushes pistons apart."),
                    Cite(0, "audio_ts", 190, 199, "Don't pull the lever with the pads out."),
                ),
            ),
        ),
    ),
    VideoChat(
        user="erin",
        videos=(Video("VI606233019874754560", "backyard_trailcam_week23", 1800),),
        turns=(
            VideoTurn(
                "Did any deer show up at night?",
                "Yes, twice. A doe appears at 02:14 on Tuesday (the clip at 9:20) and "
                "browses near the fence for about forty seconds, and a young buck crosses "
                "the frame quickly on Friday at 04:51 (24:08).",
                (
                    (
                        RETRIEVAL,
                        "The trail camera switches to infrared at night; look for animal "
                        "shapes in the grey footage.",
                    ),
                    (
                        ANALYSIS,
                        "Two infrared segments contain deer. The timestamp overlay gives "
                        "the recording time.",
                    ),
                ),
                (
                    Cite(0, "keyframe", 560),
                    Cite(0, "visual_ts", 558, 600, "An infrared image of a deer by a fence."),
                    Cite(0, "visual_ts", 1446, 1452, "A small deer with antlers runs past."),
                ),
            ),
        ),
    ),
    VideoChat(
        user="default",
        videos=(
            Video("VI606247786301378560", "lisbon_food_tour", 1530),
            Video("VI606247845932711936", "azores_hiking_trip", 2210),
            Video("VI606247901177241600", "norway_fjord_cruise", 1905),
        ),
        turns=(
            VideoTurn(
                "Where should I travel in mid June, based on the videos I saved?",
                "Mid June suits all three, but for different trips:\n\n"
                "- **Azores** - the hydrangeas along the hiking trails start flowering "
                "around then and it is mild (the hiker mentions 22 degrees at 5:10). Best "
                "if you want hiking without summer crowds.\n"
                "- **Norway's fjords** - near-endless daylight; the cruise video shows "
                "sunset after 11 pm. Best for scenery, but the most expensive.\n"
                "- **Lisbon** - the Santo Antonio festival in mid June fills the old town "
                "with grilled sardines and street parties, as the food tour shows at "
                "12:30. Best if you like crowds and food.",
                (
                    (
                        RETRIEVAL,
                        "The user asks for a recommendation grounded in their saved travel "
                        "videos. I should check what each video says about June.",
                    ),
                    (
                        ANSWER,
                        "Give one line per destination with who it suits, since the user "
                        "has not said what kind of trip they want.",
                    ),
                ),
                (
                    Cite(0, "visual_ts", 750, 780, "Strings of lights above a crowded alley."),
                    Cite(1, "audio_ts", 305, 318, "It's about twenty-two degrees, perfect."),
                    Cite(1, "keyframe", 640),
                    Cite(2, "visual_ts", 1520, 1548, "A fjord at dusk with the sun still up."),
                ),
            ),
            VideoTurn(
                "Which one is cheapest?",
                "Lisbon, going by the videos: the food tour quotes meals for 10 to 15 euros, "
                "while the fjord cruise mentions cabin prices above 2,000 euros. The Azores "
                "video does not give prices.",
                ((RETRIEVAL, "Look for prices mentioned in narration or shown on screen."),),
                (
                    Cite(0, "audio_ts", 402, 410, "Lunch here is about twelve euros."),
                    Cite(2, "audio_ts", 95, 110, "Cabins start at around two thousand euros."),
                ),
            ),
        ),
    ),
    VideoChat(
        user="erin",
        videos=(Video("VI606261020398051328", "morning_yoga_flow_20min", 1200),),
        turns=(
            VideoTurn(
                "Which poses in this flow are hard on the knees?",
                "Two might bother sensitive knees: **hero pose** at 6:40, kneeling with "
                "the hips between the heels, and the **low lunge** at 11:15 with the back "
                "knee on the mat. The instructor suggests a folded blanket under the knee "
                "for the lunge and sitting on a block in hero pose.",
                (
                    (
                        RETRIEVAL,
                        "List the poses in the flow and note which load the knee joint.",
                    ),
                ),
                (
                    Cite(0, "visual_ts", 398, 430, "A woman kneels with hips between heels."),
                    Cite(0, "audio_ts", 672, 690, "Pop a blanket under that back knee."),
                    Cite(0, "keyframe", 675),
                ),
            ),
        ),
    ),
    VideoChat(
        user="alice",
        videos=(Video("VI606275500116926464", "mirrorless_camera_unboxing_review", 1045),),
        turns=(
            VideoTurn(
                "Does the reviewer mention battery life?",
                "Yes, at 12:20. He got about 410 shots per charge with the screen on and "
                "the stabiliser active, and says a spare battery is a must for a full day "
                "of shooting.",
                ((RETRIEVAL, "Search the review's narration for battery."),),
                (
                    Cite(
                        0,
                        "audio_ts",
                        738,
                        760,
                        "I got around four hundred and ten shots, so carry a spare.",
                    ),
                    Cite(0, "keyframe", 742),
                ),
            ),
            VideoTurn(
                "What's in the box?",
                "The camera body, a battery, a USB-C cable, a shoulder strap, the body cap "
                "and a short manual, shown at 1:30. There is no wall charger; the camera "
                "charges over USB.",
                ((RETRIEVAL, "Find the unboxing segment at the start."),),
                (
                    Cite(
                        0,
                        "visual_ts",
                        85,
                        110,
                        "Items laid out on a table: a camera, a battery, a cable, a strap.",
                    ),
                ),
            ),
        ),
    ),
)

# --- agents, teams and workflows (Agno style) ---------------------------------------------------


@dataclass(frozen=True)
class Component:
    type: str  # agent | team | workflow
    id: str
    name: str
    model: dict[str, str] | None = None
    instructions: str = ""
    members: tuple[str, ...] = ()
    steps: tuple[str, ...] = ()


@dataclass(frozen=True)
class ToolUse:
    name: str
    arguments: dict[str, Any]
    result: str


@dataclass(frozen=True)
class Delegation:
    """A team leader handing a task to one member agent."""

    member: str
    task: str
    answer: str


@dataclass(frozen=True)
class AgentTurn:
    input: str
    answer: str
    tool: ToolUse | None = None
    delegation: Delegation | None = None


@dataclass(frozen=True)
class AgentChat:
    component: str
    turns: tuple[AgentTurn, ...]
    user: str = "default"
    title: str | None = None
    summary: str | None = None
    topics: tuple[str, ...] = ()
    state: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class WorkflowRunScript:
    input: str
    steps: tuple[tuple[str, str], ...]  # (step name, output)


@dataclass(frozen=True)
class WorkflowChat:
    component: str
    runs: tuple[WorkflowRunScript, ...]
    user: str = "default"
    state: dict[str, Any] = field(default_factory=dict)


GPT_4O = {"provider": "OpenAI", "name": "OpenAIChat", "id": "gpt-4o"}
GPT_4O_MINI = {"provider": "OpenAI", "name": "OpenAIChat", "id": "gpt-4o-mini"}
CLAUDE = {"provider": "Anthropic", "name": "Claude", "id": "claude-sonnet-4-20250514"}

COMPONENTS: dict[str, Component] = {
    c.id: c
    for c in (
        Component(
            "agent",
            "basic-agent",
            "Basic Agent",
            GPT_4O,
            "You are a helpful assistant. Use markdown to format your answers.",
        ),
        Component(
            "agent",
            "support-agent",
            "Support Agent",
            GPT_4O_MINI,
            "You answer questions from customers of a project-management app. Be brief and "
            "link to settings pages by name.",
        ),
        Component(
            "agent",
            "sql-agent",
            "SQL Agent",
            CLAUDE,
            "You turn questions about the shop's orders into SQL, run them with the "
            "run_sql_query tool and explain the result in one paragraph.",
        ),
        Component("agent", "web-researcher", "Web Researcher", GPT_4O),
        Component("agent", "report-writer", "Report Writer", GPT_4O),
        Component("agent", "itinerary-planner", "Itinerary Planner", GPT_4O_MINI),
        Component(
            "team",
            "research-team",
            "Research Team",
            GPT_4O,
            "You lead a research team. Delegate fact finding to the Web Researcher and "
            "writing to the Report Writer, then answer the user.",
            members=("web-researcher", "report-writer"),
        ),
        Component(
            "team",
            "travel-team",
            "Travel Planning Team",
            GPT_4O_MINI,
            "You coordinate trip planning and hand detailed day plans to the Itinerary Planner.",
            members=("itinerary-planner",),
        ),
        Component(
            "workflow",
            "blog-workflow",
            "Blog Post Generator",
            steps=("research", "write"),
        ),
        Component(
            "workflow",
            "meeting-notes-workflow",
            "Meeting Notes Processor",
            steps=("summarise", "action_items"),
        ),
    )
}

AGENT_CHATS: tuple[AgentChat, ...] = (
    AgentChat(
        user="alice",
        component="basic-agent",
        turns=(
            AgentTurn(
                "What tools do you have?",
                "I don't have any external tools connected right now, so I can't browse the "
                "web or run code. I can still help with explanations, writing, planning and "
                "brainstorming from what I already know. What would you like to work on?",
            ),
            AgentTurn(
                "Ok. Help me plan three days in Lisbon in June.",
                "Here's a relaxed three-day plan:\n\n"
                "**Day 1 - Alfama and the castle.** Walk up to Castelo de Sao Jorge in the "
                "morning, wander down through Alfama, and have grilled sardines for lunch. "
                "In the evening, catch a fado show.\n\n"
                "**Day 2 - Belem.** Visit the Jeronimos Monastery and the Belem Tower, and "
                "don't skip the custard tarts at the old bakery nearby. Spend the "
                "afternoon at the MAAT riverside.\n\n"
                "**Day 3 - Sintra day trip.** Take the train from Rossio (about 40 "
                "minutes) for Pena Palace and Quinta da Regaleira. Book palace tickets "
                "ahead in June.\n\n"
                "Mid June is festival season, so expect street parties around the 12th and "
                "13th.",
            ),
            AgentTurn(
                "Is the Lisbon Card worth it for that plan?",
                "Probably yes. It covers public transport, including the Sintra train, and "
                "entry to the Jeronimos Monastery and Belem Tower; with a few rides a day "
                "it roughly pays for itself. It does not cover Pena Palace, so buy that "
                "ticket separately.",
            ),
        ),
        summary="The user planned a three-day June trip to Lisbon and asked whether a city "
        "transport and museum card pays off.",
        topics=("travel", "lisbon"),
        state={"trip": {"city": "Lisbon", "days": 3, "month": "June"}},
    ),
    AgentChat(
        user="alice",
        component="basic-agent",
        turns=(
            AgentTurn(
                "Give me a quick dinner recipe with chickpeas and spinach.",
                "**Chickpea and spinach skillet (20 minutes, serves 2)**\n\n"
                "1. Soften 1 sliced onion and 2 garlic cloves in olive oil.\n"
                "2. Add 1 tsp cumin, 1 tsp smoked paprika and a pinch of chilli.\n"
                "3. Stir in a drained can of chickpeas and half a can of chopped tomatoes; "
                "simmer 8 minutes.\n"
                "4. Fold in 200 g of spinach until wilted, then finish with lemon juice "
                "and salt.\n\n"
                "Serve with crusty bread or over rice. A spoon of yoghurt on top is good.",
            ),
            AgentTurn(
                "Can I make it without tomatoes?",
                "Yes. Use 150 ml of vegetable stock instead, and add a spoon of tahini at "
                "the end for body. It becomes more of a creamy braise than a saucy stew.",
            ),
        ),
        topics=("cooking",),
        state={"dietary": "vegetarian"},
    ),
    AgentChat(
        user="dave",
        component="basic-agent",
        turns=(
            AgentTurn(
                "Explain the difference between a process and a thread like I'm new to "
                "programming.",
                "Think of a **process** as a running program with its own private memory, "
                "like a separate kitchen. A **thread** is a cook working inside one "
                "kitchen. Several cooks (threads) in one kitchen share the same counters "
                "and ingredients (memory), so they can work together quickly but can also "
                "get in each other's way. Two kitchens (processes) don't share counters, "
                "so they're safer from each other but need to send messages to "
                "cooperate.",
            ),
        ),
        topics=("programming",),
    ),
    AgentChat(
        user="carol",
        component="support-agent",
        turns=(
            AgentTurn(
                "I lost my phone, how do I get into my account without the 2FA code?",
                "Sorry about the phone! You have two options:\n\n"
                "1. **Use a recovery code.** On the login page choose *Use a recovery "
                "code* and enter one of the codes you saved when you turned on 2FA.\n"
                "2. **Ask an admin.** A workspace admin can reset your 2FA under *Settings "
                "> Members > (your name) > Reset two-factor*.\n\n"
                "After you're in, set up 2FA again on your new phone under *Settings > "
                "Security*.",
            ),
            AgentTurn(
                "I'm the only admin.",
                "Then the recovery codes are the way in. If you don't have them either, "
                "contact support from the email address on the account and we'll verify "
                "ownership; it usually takes one business day.",
            ),
        ),
        title="2FA reset without phone",
        summary="The user lost their phone and needed to sign in without 2FA; as the only "
        "admin they must use recovery codes or verify ownership with support.",
        topics=("account", "security"),
        state={"ticket": "SUP-4821", "escalated": False},
    ),
    AgentChat(
        user="carol",
        component="support-agent",
        turns=(
            AgentTurn(
                "Can I export all tasks in a project to CSV?",
                "Yes. Open the project, click the *...* menu at the top right and choose "
                "*Export > CSV*. The file includes titles, assignees, due dates, status and "
                "custom fields. Comments and attachments aren't included; use *Export > "
                "JSON* if you need those.",
            ),
        ),
        topics=("export",),
    ),
    AgentChat(
        user="bob",
        component="sql-agent",
        turns=(
            AgentTurn(
                "How many orders did we ship last week, by region?",
                "Last week (Monday to Sunday) you shipped **1,284 orders**. Europe led "
                "with 611, then North America with 452, Asia-Pacific with 171 and the rest "
                "of the world with 50. Europe is up about 9% on the week before.",
                tool=ToolUse(
                    "run_sql_query",
                    {
                        "query": "SELECT region, count(*) AS orders FROM orders WHERE "
                        "shipped_at >= date_trunc('week', now()) - interval '7 days' AND "
                        "shipped_at < date_trunc('week', now()) GROUP BY region ORDER BY "
                        "orders DESC"
                    },
                    "region,orders\nEurope,611\nNorth America,452\nAsia-Pacific,171\n"
                    "Rest of world,50",
                ),
            ),
            AgentTurn(
                "What's the average order value in Europe over the same week?",
                "The average order value in Europe was **EUR 64.20** across 611 orders, "
                "with a median of EUR 48.00, so a few large orders pull the mean up.",
                tool=ToolUse(
                    "run_sql_query",
                    {
                        "query": "SELECT avg(total), percentile_cont(0.5) WITHIN GROUP "
                        "(ORDER BY total) FROM orders WHERE region = 'Europe' AND "
                        "shipped_at >= date_trunc('week', now()) - interval '7 days' AND "
                        "shipped_at < date_trunc('week', now())"
                    },
                    "avg,median\n64.20,48.00",
                ),
            ),
        ),
        title="Weekly shipping report",
        summary="Weekly shipped orders by region and the European average order value.",
        topics=("analytics", "orders"),
        state={"last_query_rows": 1},
    ),
)

TEAM_CHATS: tuple[AgentChat, ...] = (
    AgentChat(
        user="dave",
        component="research-team",
        turns=(
            AgentTurn(
                "Compare SQLite and PostgreSQL for the backend of a small SaaS app.",
                "**Short answer:** start with PostgreSQL if several app servers will write "
                "to the database; SQLite is a strong choice if the app runs on one server.\n\n"
                "| | SQLite | PostgreSQL |\n|---|---|---|\n"
                "| Setup | a file, nothing to run | a server to operate or rent |\n"
                "| Concurrent writers | one at a time | many |\n"
                "| Scaling out | one machine | replicas, managed services |\n"
                "| Backups | copy or stream the file | mature tooling |\n\n"
                "For a small team, the operational simplicity of SQLite is real, but "
                "moving later costs a migration, so decide based on how many servers you "
                "expect in a year.",
                delegation=Delegation(
                    "web-researcher",
                    "Collect the main trade-offs between SQLite and PostgreSQL for a "
                    "multi-user web app: concurrency, operations, scaling, backups.",
                    "SQLite allows one writer at a time (WAL lets readers continue), runs "
                    "in-process, and backs up by copying or streaming the file. PostgreSQL "
                    "handles many concurrent writers, supports replication and has managed "
                    "offerings, at the cost of running a server.",
                ),
            ),
            AgentTurn(
                "We expect a single server for at least a year. Anything to watch out for "
                "with SQLite?",
                "A few things:\n\n"
                "- Turn on WAL mode and set a busy timeout, or concurrent requests will "
                "see *database is locked* errors.\n"
                "- Keep write transactions short; long ones block every other writer.\n"
                "- Put the file on local disk, not a network share.\n"
                "- Set up continuous backups from day one.\n"
                "- Use a query layer that also speaks PostgreSQL so a later move is cheap.",
                delegation=Delegation(
                    "report-writer",
                    "Write a short checklist of SQLite production pitfalls for a "
                    "single-server web app.",
                    "WAL and busy_timeout; short write transactions; local disk only; "
                    "continuous backups; portable SQL.",
                ),
            ),
        ),
        summary="The team compared SQLite with PostgreSQL for a small SaaS backend and listed "
        "SQLite production pitfalls for a single-server deployment.",
        topics=("databases", "architecture"),
        state={"decision": "sqlite-first"},
    ),
    AgentChat(
        user="dave",
        component="research-team",
        turns=(
            AgentTurn(
                "Are heat pumps worth it in a cold climate like Minnesota?",
                "Often yes, with the right equipment. Modern cold-climate air-source heat "
                "pumps keep working well below -15 C, though their efficiency drops as it "
                "gets colder, so most homes there keep a backup heat source for the "
                "coldest nights. Savings depend on what you heat with today: the case is "
                "strongest against propane or electric resistance heat and weakest "
                "against cheap natural gas. Check local utility rebates, which can cover "
                "a large share of the installation.",
                delegation=Delegation(
                    "web-researcher",
                    "Find how cold-climate heat pumps perform at very low temperatures and "
                    "what backup heat is typical.",
                    "Cold-climate models are rated to run at -15 C and below with reduced "
                    "efficiency; homes in very cold regions commonly keep a furnace or "
                    "electric backup for extreme cold.",
                ),
            ),
        ),
        topics=("energy", "home"),
    ),
    AgentChat(
        user="default",
        component="travel-team",
        turns=(
            AgentTurn(
                "Plan a 4-day Azores trip focused on hiking, mid June.",
                "Base yourself in Ponta Delgada on Sao Miguel.\n\n"
                "- **Day 1:** Sete Cidades crater rim walk (about 12 km), lunch in the "
                "village.\n"
                "- **Day 2:** Lagoa do Fogo trail and the Caldeira Velha hot springs.\n"
                "- **Day 3:** Furnas: the lake trail, the fumaroles and a soak at Terra "
                "Nostra garden.\n"
                "- **Day 4:** Coastal walk at Ribeira dos Caldeiroes and a whale-watching "
                "trip in the afternoon.\n\n"
                "Rent a car; buses are infrequent. Bring a rain jacket, since weather "
                "changes fast on the crater rims.",
                delegation=Delegation(
                    "itinerary-planner",
                    "Draft a 4-day hiking itinerary on Sao Miguel for mid June with one "
                    "major trail per day.",
                    "Day 1 Sete Cidades; Day 2 Lagoa do Fogo; Day 3 Furnas; Day 4 Ribeira "
                    "dos Caldeiroes and whale watching.",
                ),
            ),
        ),
        title="Azores hiking trip",
        summary="A four-day hiking itinerary on Sao Miguel for mid June.",
        topics=("travel", "hiking"),
        state={"destination": "Azores", "days": 4},
    ),
)

WORKFLOW_CHATS: tuple[WorkflowChat, ...] = (
    WorkflowChat(
        user="dave",
        component="blog-workflow",
        runs=(
            WorkflowRunScript(
                "Why keyset pagination beats offset pagination",
                (
                    (
                        "research",
                        "Key points: OFFSET makes the database skip rows it has already "
                        "read, so deep pages get slower; rows inserted between requests "
                        "shift offsets and cause duplicates or gaps; keyset pagination "
                        "filters on the last seen sort key and id, uses an index directly "
                        "and stays fast at any depth. Trade-off: no jumping to page 50.",
                    ),
                    (
                        "write",
                        "# Why keyset pagination beats offsets\n\n"
                        "Every list API starts with `LIMIT 20 OFFSET 40`. It is easy, and "
                        "it works until your table grows. To serve page 1,000 the database "
                        "still walks the first 20,000 rows and throws them away...\n\n"
                        "Keyset pagination asks a different question: *give me the next "
                        "20 rows after this one*. With an index on the sort key, that is "
                        "the same amount of work on page 1 and on page 1,000.",
                    ),
                ),
            ),
        ),
        state={"published": False},
    ),
    WorkflowChat(
        user="erin",
        component="blog-workflow",
        runs=(
            WorkflowRunScript(
                "A beginner's guide to keeping a sourdough starter alive",
                (
                    (
                        "research",
                        "Feed 1:1:1 starter, flour, water by weight; room temperature "
                        "starters need daily feeding, fridge starters weekly; grey liquid "
                        "on top (hooch) means hungry, not dead; discard before feeding.",
                    ),
                    (
                        "write",
                        "# Keeping your sourdough starter alive\n\n"
                        "A starter is a pet that eats flour. Feed it equal weights of "
                        "starter, flour and water, keep it somewhere warm, and it will "
                        "double within a few hours. If you bake once a week, keep it in "
                        "the fridge and feed it the day before you bake.",
                    ),
                ),
            ),
            WorkflowRunScript(
                "Sourdough discard recipes",
                (
                    (
                        "research",
                        "Discard works in pancakes, crackers, waffles and flatbreads; it "
                        "adds flavour, not rise, so recipes still need baking soda or "
                        "yeast.",
                    ),
                    (
                        "write",
                        "# Five ways to use sourdough discard\n\n"
                        "Before you pour it down the sink: discard makes the crispest "
                        "crackers you will ever bake...",
                    ),
                ),
            ),
        ),
        state={"published": True, "series": "sourdough"},
    ),
    WorkflowChat(
        user="bob",
        component="meeting-notes-workflow",
        runs=(
            WorkflowRunScript(
                "Transcript: weekly product sync, 14 participants, 52 minutes",
                (
                    (
                        "summarise",
                        "The team reviewed the beta feedback, agreed to delay the public "
                        "launch by two weeks, and discussed the drop-off in onboarding.",
                    ),
                    (
                        "action_items",
                        "- Marco: confirm the new launch date by Thursday\n"
                        "- Priya: fix the two failing payment certification checks\n"
                        "- Jonas: prototype a skippable invite step",
                    ),
                ),
            ),
        ),
        state={"meeting": "product-sync", "action_items": 3},
    ),
)

# --- memories -----------------------------------------------------------------------------------

# (user, memory, topics, agent id)
MEMORIES: tuple[tuple[str, str, tuple[str, ...], str | None], ...] = (
    ("alice", "Alice is planning a trip to Lisbon in June.", ("travel",), "basic-agent"),
    ("alice", "Alice prefers vegetarian recipes.", ("food", "preferences"), "basic-agent"),
    ("alice", "Alice saves cooking tutorials to watch later.", ("video",), None),
    ("bob", "Bob runs a small online shop and tracks weekly orders.", ("work",), "sql-agent"),
    ("bob", "Bob reports in euros.", ("preferences",), "sql-agent"),
    ("carol", "Carol is the only admin of her team's workspace.", ("account",), "support-agent"),
    ("carol", "Carol coaches an under-12 soccer team.", ("sports", "family"), None),
    ("dave", "Dave is choosing a database for a new SaaS product.", ("work",), None),
    ("dave", "Dave lives in Minnesota.", ("location",), None),
    ("dave", "Dave is learning how transformers work.", ("learning",), None),
    ("erin", "Erin practises yoga most mornings and has a sensitive left knee.", ("health",), None),
    ("erin", "Erin writes a blog about baking.", ("hobbies",), None),
    ("default", "The user likes hiking holidays.", ("travel", "preferences"), None),
    ("default", "The user is replacing the brake pads on a mountain bike.", ("diy",), None),
)

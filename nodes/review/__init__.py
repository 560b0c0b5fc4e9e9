"""The review pack: human tasks and the routing that decides which items need one.

``review.task`` suspends the run with a form for a person (fields with values, confidences and
boxes on the document's page images, instructions, outcomes, an assignee or a queue, a deadline);
the runner keeps the form as a row of the store's ``tasks`` table and resumes the run when the
task is completed (``botloom tasks complete``, the service's API, the designer's inbox).
``review.route`` sends an item to review or straight through, by the confidences of the fields
the user chose and by rules. See docs/review.md.
"""

from botloom.runner.sdk import VERSION, NodePack


def pack() -> NodePack:
    from . import route, task

    return NodePack.from_modules("review", VERSION, [task, route], title="Human review",
                                 description="Human tasks with a form and the document, and routing to review.")

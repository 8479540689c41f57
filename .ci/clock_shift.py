"""Move this Python process's wall clock, for the CI's clock-moved runs of the suite.

`.ci/run` installs this module into the CI venv's site-packages with a `.pth` line that imports
it, so the test process and every daemon it starts (`python -m pager ...`) start travelling at
interpreter start. `PAGER_CLOCK_SHIFT_TO` is the instant (ISO 8601) the wall clock showed at
`PAGER_CLOCK_SHIFT_AT` (real Unix seconds): every process computes the same offset, so a
daemon started later agrees with the suite that started it. The clock keeps ticking; monotonic
time is left alone (time-machine does not touch it), so sleeps and timed waits work. Debian's
libfaketime can't do this with Python 3.11 (shared/FIELD-NOTES.md).
"""

import os
import time
from datetime import datetime


def _travel() -> None:
    target = os.environ.get("PAGER_CLOCK_SHIFT_TO")
    if not target:
        return
    import time_machine

    set_at = float(os.environ.get("PAGER_CLOCK_SHIFT_AT") or time.time())
    offset = datetime.fromisoformat(target).timestamp() - set_at
    time_machine.travel(time.time() + offset, tick=True).start()
    # time-machine starts ticking at the first read of the clock, not at start(): read it now,
    # or a process that first asks the time later (after its imports) runs behind the others.
    time.time()


_travel()

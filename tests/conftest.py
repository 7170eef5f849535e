import os

import hypothesis

hypothesis.settings.register_profile(
    "ci", derandomize=True, deadline=None, database=None, max_examples=25, print_blob=True
)
hypothesis.settings.register_profile("dev", deadline=None, max_examples=25)
hypothesis.settings.load_profile("ci" if os.environ.get("CI") else "dev")

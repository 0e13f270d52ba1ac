"""Exercise sources (jupytext percent scripts), one per topic, with their solutions
between ``### BEGIN SOLUTION`` / ``### END SOLUTION`` (nbgrader's markers).
``python -m theory exercises --out DIR`` writes the student versions;
``python -m theory grade FILE`` grades one (:mod:`theory.coursework.grading`)."""

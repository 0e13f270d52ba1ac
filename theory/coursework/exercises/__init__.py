"""The exercises' student versions (jupytext percent scripts), one per topic: each
solution replaced by ``raise NotImplementedError``.  ``python -m theory exercises --out DIR``
writes them; ``python -m theory grade FILE`` grades one (:mod:`theory.coursework.grading`).
The sources with their solutions are not installed with the package: they are in the source
repository, ``theory/coursework/solutions/`` (:mod:`theory.coursework.notebooks`)."""

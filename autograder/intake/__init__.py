"""Submissions in: unpacking an LMS download (``unpack``), collecting a folder or zip into
``submitted/`` (``collect``), and reading one submitted notebook (``submission``)."""

"""How an edit lands in a mouth crop: which pixels it may touch (``mask``) and how much of a network's
change they receive (``tone``).

Below both ``training`` and ``editing``: the trainers judge an edit as the editor will paste it, so the
two must share these pieces without importing each other."""

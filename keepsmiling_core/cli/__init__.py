"""The ``keepsmiling`` command line: one module per subcommand, dispatched by ``main``."""


def add_labelled_faces_arguments(parser) -> None:
    """``--dataset KIND:PATH`` and ``--split``: the labelled faces a measuring command reads (its 68 points
    are found as the app finds them)."""
    parser.add_argument("--dataset", required=True, metavar="KIND:PATH",
                        help="labelled faces, e.g. mtfl:../shared/data/MTFL (folders:PATH works too)")
    parser.add_argument("--split", default="training", help="dataset split (default: training)")

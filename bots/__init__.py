"""The sample bots, installed as the package ``botloom.bots``: one folder per sample, with its
bot file and the files it reads. ``botloom start`` runs ``csv-report`` when there is no display;
the designer's start page lists them all. Find them with
:func:`botloom.runner.start.bots_dir`, which works in an installed wheel and in a checkout."""

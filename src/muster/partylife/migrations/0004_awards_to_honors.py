"""Awards and commendations (``Honor``, ``HonorApproval``) moved to the honors app (issue 23, item 4).

State only: the models leave party life's migration state here and enter the honors app's state in
``honors.0003_awards_from_partylife``. The tables ``partylife_honor`` and ``partylife_honorapproval``, their
rows, constraints and indexes are not touched (``database_operations=[]``), in both directions.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("partylife", "0003_ordering_ties"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="HonorApproval"),
                migrations.DeleteModel(name="Honor"),
            ],
            database_operations=[],
        ),
    ]

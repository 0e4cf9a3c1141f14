"""Issue 25, round three: visits and classes may belong to a co-building agreement; the files of visits
become the files of visits, problems (the evidence of a resolution) and classes."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("outreach", "0004_visit_attachment"),
    ]

    operations = [
        migrations.AddField(
            model_name="visit",
            name="agreement",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="visits",
                to="outreach.agreement",
                verbose_name="co-building agreement",
            ),
        ),
        migrations.AddField(
            model_name="taxclass",
            name="agreement",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="classes",
                to="outreach.agreement",
                verbose_name="co-building agreement",
            ),
        ),
        migrations.RenameModel(old_name="VisitAttachment", new_name="Attachment"),
        migrations.AlterModelOptions(
            name="attachment",
            options={
                "ordering": ["uploaded_at", "id"],
                "verbose_name": "attachment",
                "verbose_name_plural": "attachments",
            },
        ),
        migrations.AlterField(
            model_name="attachment",
            name="visit",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="attachments",
                to="outreach.visit",
            ),
        ),
        migrations.AddField(
            model_name="attachment",
            name="problem",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="attachments",
                to="outreach.problem",
            ),
        ),
        migrations.AddField(
            model_name="attachment",
            name="tax_class",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="attachments",
                to="outreach.taxclass",
            ),
        ),
        migrations.AddConstraint(
            model_name="attachment",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(
                        ("problem__isnull", True), ("tax_class__isnull", True), ("visit__isnull", False)
                    ),
                    models.Q(
                        ("problem__isnull", False), ("tax_class__isnull", True), ("visit__isnull", True)
                    ),
                    models.Q(
                        ("problem__isnull", True), ("tax_class__isnull", False), ("visit__isnull", True)
                    ),
                    _connector="OR",
                ),
                name="outreach_attachment_one_owner",
            ),
        ),
    ]

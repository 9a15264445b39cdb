from django.db import migrations, models


def create_log_state(apps, schema_editor):
    apps.get_model("custody", "LogState").objects.get_or_create(id=1)


class Migration(migrations.Migration):
    initial = True
    dependencies: list[tuple[str, str]] = []

    operations = [
        migrations.CreateModel(
            name="CustodyEvent",
            fields=[
                ("seq", models.BigIntegerField(primary_key=True, serialize=False)),
                ("action", models.CharField(max_length=60)),
                ("item_id", models.UUIDField(db_index=True, null=True)),
                ("item_sha256", models.CharField(blank=True, max_length=64)),
                ("actor", models.CharField(max_length=300)),
                ("time", models.CharField(max_length=40)),
                ("body", models.TextField()),
                ("leaf_hash", models.CharField(max_length=64)),
            ],
            options={"ordering": ["seq"]},
        ),
        migrations.CreateModel(
            name="LogState",
            fields=[
                ("id", models.PositiveSmallIntegerField(default=1, primary_key=True, serialize=False)),
                ("size", models.BigIntegerField(default=0)),
                ("frontier", models.JSONField(default=list)),
            ],
        ),
        migrations.CreateModel(
            name="TreeHead",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("size", models.BigIntegerField(db_index=True)),
                ("root", models.CharField(max_length=64)),
                ("time", models.CharField(max_length=40)),
                ("key_id", models.CharField(max_length=100)),
                ("signature", models.CharField(max_length=128)),
            ],
            options={"ordering": ["id"]},
        ),
        migrations.RunPython(create_log_state, migrations.RunPython.noop),
    ]

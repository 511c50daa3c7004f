from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0005_user_time_zone"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="shows_promotions",
            field=models.BooleanField(default=True),
        ),
    ]

"""The meetings and their attendance move from the circles app to this one, in Django's state only: the
tables keep their names (circles_session, circles_session_attendees, circles_session_member_attendees,
circles_attendance), their columns, indexes and constraints, so no row moves and none is lost. The circles
app's migration 0003 then lets go of them (tests/meetings/test_split_migration.py checks it on real rows)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0008_assignment_requests_and_team_notice"),
        ("circles", "0002_minutes_staffalert_vetting_session_agenda_and_more"),
        ("meetings", "0001_meeting_tasks_moved"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name='Meeting',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('kind', models.CharField(choices=[('preparation', 'Preparation meeting'), ('dialogue', 'Dialogue'), ('conference', 'Conference'), ('circle', 'Circle meeting')], max_length=16)),
                        ('format', models.CharField(choices=[('in_person', 'In person'), ('video', 'By video')], max_length=12)),
                        ('starts_at', models.DateTimeField()),
                        ('time_zone', models.CharField(max_length=64)),
                        ('duration_minutes', models.PositiveSmallIntegerField(default=60)),
                        ('status', models.CharField(choices=[('scheduled', 'Scheduled'), ('on_hold', 'On hold'), ('cancelled', 'Cancelled')], default='scheduled', max_length=12)),
                        ('agenda', models.TextField(blank=True)),
                        ('speaking_order', models.JSONField(blank=True, default=list)),
                        ('opened_at', models.DateTimeField(blank=True, null=True)),
                        ('on_break', models.BooleanField(default=False)),
                        ('ended_at', models.DateTimeField(blank=True, null=True)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('case', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='sessions', to='cases.case')),
                        ('circle', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='sessions', to='circles.circle')),
                        ('created_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'circles_session',
                    },
                ),
                migrations.CreateModel(
                    name='MeetingMember',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('circlemember', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to='circles.circlemember')),
                        ('session', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to='meetings.meeting')),
                    ],
                    options={
                        'db_table': 'circles_session_member_attendees',
                        'unique_together': {('session', 'circlemember')},
                    },
                ),
                migrations.AddField(
                    model_name='meeting',
                    name='member_attendees',
                    field=models.ManyToManyField(blank=True, related_name='sessions', through='meetings.MeetingMember', to='circles.circlemember'),
                ),
                migrations.CreateModel(
                    name='MeetingPlace',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('participant', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to='cases.participant')),
                        ('session', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to='meetings.meeting')),
                    ],
                    options={
                        'db_table': 'circles_session_attendees',
                        'unique_together': {('session', 'participant')},
                    },
                ),
                migrations.AddField(
                    model_name='meeting',
                    name='attendees',
                    field=models.ManyToManyField(related_name='sessions', through='meetings.MeetingPlace', to='cases.participant'),
                ),
                migrations.CreateModel(
                    name='Attendance',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('arrival', models.CharField(blank=True, choices=[('steady', 'Steady'), ('okay', 'Okay'), ('unsettled', 'A bit unsettled'), ('struggling', 'Struggling')], max_length=12)),
                        ('arrival_at', models.DateTimeField(blank=True, null=True)),
                        ('departure', models.CharField(blank=True, choices=[('steady', 'Steady'), ('okay', 'Okay'), ('unsettled', 'A bit unsettled'), ('struggling', 'Struggling')], max_length=12)),
                        ('departure_at', models.DateTimeField(blank=True, null=True)),
                        ('wants_support', models.BooleanField(default=False)),
                        ('attended', models.BooleanField(blank=True, null=True)),
                        ('member', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='circles.circlemember')),
                        ('participant', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='cases.participant')),
                        ('supporter', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='cases.participant')),
                        ('session', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='attendance', to='meetings.meeting')),
                    ],
                    options={
                        'db_table': 'circles_attendance',
                        'constraints': [models.UniqueConstraint(fields=('session', 'participant'), name='one_attendance_per_place'), models.UniqueConstraint(fields=('session', 'member'), name='one_attendance_per_member')],
                    },
                ),
                migrations.AddIndex(
                    model_name='meeting',
                    index=models.Index(fields=['case', 'status', 'starts_at'], name='circles_ses_case_id_54dd13_idx'),
                ),
                migrations.AddIndex(
                    model_name='meeting',
                    index=models.Index(fields=['circle', 'status', 'starts_at'], name='circles_ses_circle__973298_idx'),
                ),
                migrations.AddConstraint(
                    model_name='meeting',
                    constraint=models.CheckConstraint(condition=models.Q(models.Q(('case__isnull', False), ('circle__isnull', True)), models.Q(('case__isnull', True), ('circle__isnull', False)), _connector='OR'), name='session_of_a_case_or_a_circle'),
                ),
            ],
        )
    ]

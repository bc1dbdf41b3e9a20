"""The user model: Django's user plus a display name."""

from django.contrib.auth.models import AbstractUser
from django.db import models


class User(AbstractUser):
    """A Kirimin user; shown to clients as {"id", "username", "display_name"}."""

    display_name = models.CharField(max_length=150, blank=True)

    def save(self, *args, **kwargs):
        if not self.display_name:
            self.display_name = self.username
        super().save(*args, **kwargs)

    def __str__(self):
        return self.username

"""The App Home tab: app_home_opened, the Home's shortcuts, and republishing on changes."""

"""Test support shared by the layers: reference models and drivers."""

"""Turning dropped files into content items: conversion, metadata, upload and insert.

Everything here except ``controller`` is plain Python with no Qt, so it runs in worker threads
and in tests without a GUI.
"""

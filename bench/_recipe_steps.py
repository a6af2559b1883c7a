"""The benchmark's 20-step cleaning recipe, and the same steps written in pandas."""

from __future__ import annotations

import numpy as np
import pandas as pd

from lakebed.transform import Recipe


def recipe() -> Recipe:
    """A realistic cleaning recipe over :mod:`bench._recipe_data` orders."""
    trim = {"removeLeadingAndTrailingWhitespace": True, "collapseConsecutiveWhitespace": True}
    return (
        Recipe(name="bench-clean")
        .add("REMOVE_DUPLICATES", sourceColumn="id")
        .add("REMOVE_COMBINED", sourceColumn="name", **trim)
        .add("CAPITAL_CASE", sourceColumn="name")
        .add("LOWER_CASE", sourceColumn="email")
        .add("REMOVE_COMBINED", sourceColumn="city", **trim)
        .add("CAPITAL_CASE", sourceColumn="city")
        .add("FILL_WITH_CUSTOM", sourceColumn="city", columnDataType="string", value="Unknown")
        .add("FILL_WITH_MEDIAN", sourceColumn="price")
        .add("FILL_WITH_AVERAGE", sourceColumn="qty")
        .add(
            "REPLACE_OUTLIERS",
            sourceColumn="price",
            outlierStrategy="Z_SCORE",
            threshold=3,
            replaceType="WINSORIZE_VALUES",
        )
        .add("CHANGE_DATA_TYPE", sourceColumn="signup", columnDataType="date")
        .add("YEAR", sourceColumn="signup", targetColumn="signup_year")
        .add("MONTH", sourceColumn="signup", targetColumn="signup_month")
        .add("MULTIPLY", sourceColumn1="price", sourceColumn2="qty", targetColumn="revenue")
        .add("ROUND", sourceColumn="revenue", targetColumn="revenue_r")
        .add("NORMALIZATION", sourceColumn="score", strategy="Z_SCORE", targetColumn="score_z")
        .add("ONE_HOT_ENCODING", sourceColumn="plan")
        .add(
            "BUCKETIZATION",
            sourceColumn="price",
            targetColumn="price_band",
            bucketNames=["low", "mid", "high"],
            splits=["-Infinity", "15", "30", "Infinity"],
        )
        .add(
            "FLAG_OUTLIERS",
            sourceColumn="score",
            outlierStrategy="IQR",
            threshold=1.5,
            targetColumn="score_outlier",
        )
        .add("ORDINAL_ENCODING", sourceColumn="city", targetColumn="city_code")
    )


def pandas_steps(df: pd.DataFrame) -> pd.DataFrame:
    """The same 20 steps, written the way a pandas user would."""
    df = df.drop_duplicates(subset="id", keep="first")
    df["name"] = df["name"].str.strip().str.replace(r"\s+", " ", regex=True)
    df["name"] = df["name"].str.title()
    df["email"] = df["email"].str.lower()
    df["city"] = df["city"].str.strip().str.replace(r"\s+", " ", regex=True)
    df["city"] = df["city"].str.title()
    df["city"] = df["city"].fillna("Unknown")
    df["price"] = df["price"].fillna(df["price"].median())
    df["qty"] = df["qty"].fillna(df["qty"].mean())
    mean, std = df["price"].mean(), df["price"].std()
    df["price"] = df["price"].clip(mean - 3 * std, mean + 3 * std)
    df["signup"] = pd.to_datetime(df["signup"], format="%Y-%m-%d", errors="coerce")
    df["signup_year"] = df["signup"].dt.year
    df["signup_month"] = df["signup"].dt.month
    df["revenue"] = df["price"] * df["qty"]
    df["revenue_r"] = df["revenue"].round()
    df["score_z"] = (df["score"] - df["score"].mean()) / df["score"].std()
    df = pd.concat([df, pd.get_dummies(df["plan"], prefix="plan")], axis=1)
    df["price_band"] = pd.cut(df["price"], [-np.inf, 15, 30, np.inf], labels=["low", "mid", "high"])
    q1, q3 = df["score"].quantile(0.25), df["score"].quantile(0.75)
    iqr = q3 - q1
    df["score_outlier"] = (df["score"] < q1 - 1.5 * iqr) | (df["score"] > q3 + 1.5 * iqr)
    df["city_code"] = df["city"].astype("category").cat.codes
    return df

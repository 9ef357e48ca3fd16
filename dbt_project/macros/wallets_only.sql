{#-
    The rows of `relation` (a CTE or relation name with a chain_id column) whose `wallet_column` names a
    wallet: neither the zero address (var zero_address) nor an address with code (stg_raw__addresses:
    marketplaces, wrappers, collections, vaults). A parenthesized subquery, to alias in FROM:

        from {{ wallets_only('facts') }} as facts

    Used by the wallet models and tests that filter a relation of their own (int_wallet_days_summarized
    keeps a `not exists` of the same meaning: see there). Written as a left join kept where no contract
    matched, not as `not exists`: over a union or a CTE read twice, DuckDB answers `not exists` by first
    listing the distinct (chain_id, wallet) of every row (assert_wallet_activity_daily_reconciles on the
    benchmark's full build: 7.4-8.4 s that way, 2.5-3.1 s this way). A row is kept once whatever the
    addresses table holds: only rows that match no contract are kept.
-#}
{% macro wallets_only(relation, wallet_column='wallet') -%}
    (
        select candidate_rows.*
        from {{ relation }} as candidate_rows
        left join (
            select
                chain_id,
                address
            from {{ ref('stg_raw__addresses') }}
            where is_contract
        ) as contract_addresses
            on
                contract_addresses.chain_id = candidate_rows.chain_id
                and contract_addresses.address = candidate_rows.{{ wallet_column }}
        where
            contract_addresses.address is null
            and candidate_rows.{{ wallet_column }} <> '{{ var("zero_address") }}'
    )
{%- endmacro %}

// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title WETH
/// @notice WETH9 re-implemented for Solidity 0.8. Names, signatures and events match WETH9 exactly so the
/// extractor can decode it with the same ABI it would use for mainnet WETH.
contract WETH {
    string public constant name = "Wrapped Ether";
    string public constant symbol = "WETH";
    uint8 public constant decimals = 18;

    event Approval(address indexed src, address indexed guy, uint256 wad);
    event Transfer(address indexed src, address indexed dst, uint256 wad);
    event Deposit(address indexed dst, uint256 wad);
    event Withdrawal(address indexed src, uint256 wad);

    error InsufficientBalance(address account, uint256 balance, uint256 needed);
    error InsufficientAllowance(address owner, address spender, uint256 allowance, uint256 needed);
    error EthTransferFailed();

    mapping(address => uint256) public balanceOf;
    mapping(address => mapping(address => uint256)) public allowance;

    receive() external payable {
        deposit();
    }

    function deposit() public payable {
        balanceOf[msg.sender] += msg.value;
        emit Deposit(msg.sender, msg.value);
    }

    function withdraw(uint256 wad) external {
        uint256 bal = balanceOf[msg.sender];
        if (bal < wad) revert InsufficientBalance(msg.sender, bal, wad);
        unchecked {
            balanceOf[msg.sender] = bal - wad;
        }
        // Balance is debited before the call, so a reentrant withdraw cannot double-spend.
        (bool ok,) = msg.sender.call{value: wad}("");
        if (!ok) revert EthTransferFailed();
        emit Withdrawal(msg.sender, wad);
    }

    /// @dev Every wei held is backed 1:1 by a deposit, exactly as WETH9 defines it.
    function totalSupply() external view returns (uint256) {
        return address(this).balance;
    }

    function approve(address guy, uint256 wad) external returns (bool) {
        allowance[msg.sender][guy] = wad;
        emit Approval(msg.sender, guy, wad);
        return true;
    }

    function transfer(address dst, uint256 wad) external returns (bool) {
        return transferFrom(msg.sender, dst, wad);
    }

    function transferFrom(address src, address dst, uint256 wad) public returns (bool) {
        uint256 bal = balanceOf[src];
        if (bal < wad) revert InsufficientBalance(src, bal, wad);

        if (src != msg.sender) {
            uint256 allowed = allowance[src][msg.sender];
            // WETH9 semantics: an unlimited allowance is never decreased (and emits no Approval).
            if (allowed != type(uint256).max) {
                if (allowed < wad) revert InsufficientAllowance(src, msg.sender, allowed, wad);
                unchecked {
                    allowance[src][msg.sender] = allowed - wad;
                }
            }
        }

        unchecked {
            balanceOf[src] = bal - wad;
        }
        // Cannot overflow: the sum of all balances equals the ETH held by this contract.
        unchecked {
            balanceOf[dst] += wad;
        }
        emit Transfer(src, dst, wad);
        return true;
    }
}

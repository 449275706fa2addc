// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IERC20Min} from "./IERC20Min.sol";

/// @title ServiceFee: an AethirCore-style service-fee vault.
/// @notice Developers prepay service fees in one ERC-20 and may withdraw what they have not
///         used. Event signatures match AethirCore on Arbitrum so the same decoder reads both.
contract ServiceFee {
    IERC20Min public immutable token;

    mapping(address => uint256) public balanceOf;
    mapping(address => uint64) public nonces;

    event DepositServiceFee(address indexed developer, uint64 nonce, uint256 amount);
    event WithdrawServiceFee(address indexed developer, uint64 nonce, uint256 amount);

    error ZeroAmount();
    error InsufficientBalance(address developer, uint256 balance, uint256 needed);
    error TransferFailed();

    constructor(IERC20Min token_) {
        token = token_;
    }

    /// @dev Log order: the token's Transfer, then DepositServiceFee.
    function depositServiceFee(uint256 amount) external {
        if (amount == 0) revert ZeroAmount();
        if (!token.transferFrom(msg.sender, address(this), amount)) revert TransferFailed();
        balanceOf[msg.sender] += amount;
        uint64 nonce = nonces[msg.sender]++;
        emit DepositServiceFee(msg.sender, nonce, amount);
    }

    /// @dev Log order: the token's Transfer, then WithdrawServiceFee.
    function withdrawServiceFee(uint256 amount) external {
        if (amount == 0) revert ZeroAmount();
        uint256 bal = balanceOf[msg.sender];
        if (bal < amount) revert InsufficientBalance(msg.sender, bal, amount);
        unchecked {
            balanceOf[msg.sender] = bal - amount;
        }
        uint64 nonce = nonces[msg.sender]++;
        if (!token.transfer(msg.sender, amount)) revert TransferFailed();
        emit WithdrawServiceFee(msg.sender, nonce, amount);
    }
}
